//! The one shared app state every command and the TUI run on: the backend's two ports, the
//! resolved queue URLs and who is labelling. `connect` opens the chosen backend and makes
//! sure its bucket and queues exist (creating what is missing).

use std::time::Duration;

use crate::backend::{self, Backend, BackendError, BackendKind, MAX_RECEIVES, QueueSpec};
use crate::config::{BackendChoice, ResourceNames, Settings};

/// Queue URLs the app uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    pub requests: String,
    pub requests_dlq: String,
    pub responses: String,
    pub responses_dlq: String,
    pub labels: String,
    pub labels_dlq: String,
}

#[derive(Clone)]
pub struct AppContext {
    pub backend: Backend,
    pub resources: Resources,
    pub names: ResourceNames,
    pub user: String,
    pub max_image_bytes: u64,
    /// Current votes an image needs before it leaves the labelling pool.
    pub votes_per_image: u64,
    /// Share of a labeller's images that are gold images she has not answered.
    pub gold_rate: f64,
    /// The review view lists images whose confidence is under this (and ties).
    pub review_below: f64,
    /// Who may adjudicate in the review view; empty: everyone.
    pub reviewers: Vec<String>,
    /// Holds the outbox (`service::outbox`).
    pub state_dir: std::path::PathBuf,
}

impl AppContext {
    /// Whether this user may decide contested images (`!1` / `!0`).
    pub fn may_decide(&self) -> bool {
        may_decide(&self.reviewers, &self.user)
    }
}

/// The reviewers rule: the users listed in the config's `reviewers`, or everyone when the
/// list is empty.
pub fn may_decide(reviewers: &[String], user: &str) -> bool {
    reviewers.is_empty() || reviewers.iter().any(|r| r == user)
}

/// Prefix of the per-client reply queues, so the worker and `setup --prune` can find them.
pub const REPLY_QUEUE_PREFIX: &str = "hotdog-reply-";
/// How long a received message stays hidden from other consumers.
pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(30);

/// One thing `connect` / `setup` did or found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupStep {
    CreatedDataDir(std::path::PathBuf),
    CreatedBucket(String),
    BucketExists(String),
    CreatedQueue { name: String, dead_letter: bool },
    QueueExists(String),
    Seeded(usize),
    SeededEmptyBucket(usize),
    PrunedReplyQueues(usize),
}

impl SetupStep {
    /// Whether the step changed anything (what a plain command logs; `setup` prints all).
    pub fn changed_something(&self) -> bool {
        !matches!(self, Self::BucketExists(_) | Self::QueueExists(_))
    }
}

impl std::fmt::Display for SetupStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CreatedDataDir(dir) => write!(f, "created data dir {}", dir.display()),
            Self::CreatedBucket(b) => write!(f, "created bucket {b}"),
            Self::BucketExists(b) => write!(f, "bucket {b} exists"),
            Self::CreatedQueue {
                name,
                dead_letter: true,
            } => write!(
                f,
                "created queue {name} (dead-letter queue after {MAX_RECEIVES} receives)"
            ),
            Self::CreatedQueue { name, .. } => write!(f, "created queue {name}"),
            Self::QueueExists(name) => write!(f, "queue {name} exists"),
            Self::Seeded(n) => write!(f, "seeded {n} sample images"),
            Self::SeededEmptyBucket(n) => {
                write!(f, "the bucket had no images: seeded {n} sample images")
            }
            Self::PrunedReplyQueues(n) => write!(f, "pruned {n} reply queues idle for over a day"),
        }
    }
}

/// What `connect` / `setup` did, in order, and whether the store was new (a new local
/// data dir: the caller seeds it with `samples::seed_new_store`).
#[derive(Debug, Default)]
pub struct SetupReport {
    pub steps: Vec<SetupStep>,
    pub new_store: bool,
    /// A new local store: other processes wait until this is dropped, after the seeding.
    pub seeding: Option<backend::local::SeedingLock>,
}

/// Opens the backend and creates missing queues. A new local data dir is reported as
/// `new_store`; seeding it is the caller's (`samples::seed_new_store`).
pub async fn connect(settings: &Settings) -> Result<(AppContext, SetupReport), BackendError> {
    let mut report = SetupReport::default();
    let (backend, fresh) = match settings.backend {
        BackendChoice::Local => {
            let (store, queues, seeding) = backend::local::open(&settings.data_dir)?;
            let fresh = seeding.is_some();
            report.seeding = seeding;
            if fresh {
                report
                    .steps
                    .push(SetupStep::CreatedDataDir(settings.data_dir.clone()));
            }
            let b = Backend {
                kind: BackendKind::Local {
                    data_dir: settings.data_dir.clone(),
                },
                store: std::sync::Arc::new(store),
                queues: std::sync::Arc::new(queues),
            };
            (b, fresh)
        }
        BackendChoice::Aws => {
            let opts = backend::aws::AwsOptions {
                region: settings.region.clone(),
                endpoint_url: settings.endpoint_url.clone(),
                profile: settings.profile.clone(),
                bucket: settings.names.bucket.clone(),
            };
            let (s3, sqs, region, endpoint) = backend::aws::connect(&opts).await?;
            let b = Backend {
                kind: BackendKind::Aws {
                    region,
                    endpoint,
                    bucket: settings.names.bucket.clone(),
                },
                store: std::sync::Arc::new(s3),
                queues: std::sync::Arc::new(sqs),
            };
            (b, false)
        }
    };
    let resources = ensure_queues(&backend, &settings.names, &mut report).await?;
    let ctx = AppContext {
        backend,
        resources,
        names: settings.names.clone(),
        user: settings.user.clone(),
        max_image_bytes: settings.max_image_bytes,
        votes_per_image: settings.votes_per_image,
        gold_rate: settings.gold_rate,
        review_below: settings.review_below,
        reviewers: settings.reviewers.clone(),
        state_dir: settings.state_dir.clone(),
    };
    report.new_store = fresh;
    Ok((ctx, report))
}

/// Creates the bucket if missing (admin permission on AWS).
pub async fn ensure_bucket(ctx: &AppContext, report: &mut SetupReport) -> Result<(), BackendError> {
    let created = ctx.backend.store.ensure_bucket().await?;
    report.steps.push(if created {
        SetupStep::CreatedBucket(ctx.names.bucket.clone())
    } else {
        SetupStep::BucketExists(ctx.names.bucket.clone())
    });
    Ok(())
}

async fn ensure_queue_pair(
    backend: &Backend,
    name: &str,
    report: &mut SetupReport,
) -> Result<(String, String), BackendError> {
    let dlq_name = ResourceNames::dlq(name);
    let dlq = ensure_one(
        backend,
        QueueSpec {
            name: dlq_name,
            dead_letter: None,
            visibility_timeout: VISIBILITY_TIMEOUT,
        },
        report,
    )
    .await?;
    let main = ensure_one(
        backend,
        QueueSpec {
            name: name.to_string(),
            dead_letter: Some((dlq.clone(), MAX_RECEIVES)),
            visibility_timeout: VISIBILITY_TIMEOUT,
        },
        report,
    )
    .await?;
    Ok((main, dlq))
}

async fn ensure_one(
    backend: &Backend,
    spec: QueueSpec,
    report: &mut SetupReport,
) -> Result<String, BackendError> {
    // Look first: labellers may read queue URLs without being allowed to create queues.
    if let Some(url) = backend.queues.queue_url(&spec.name).await? {
        report.steps.push(SetupStep::QueueExists(spec.name.clone()));
        return Ok(url);
    }
    match backend.queues.ensure_queue(&spec).await {
        Ok((url, created)) => {
            report.steps.push(if created {
                SetupStep::CreatedQueue {
                    name: spec.name.clone(),
                    dead_letter: spec.dead_letter.is_some(),
                }
            } else {
                SetupStep::QueueExists(spec.name.clone())
            });
            Ok(url)
        }
        Err(BackendError::AccessDenied { what, detail }) => Err(BackendError::AccessDenied {
            what: format!(
                "{what} (creating missing queue {}: ask an admin to run `hotdog-tui setup`, which needs sqs:CreateQueue, sqs:GetQueueAttributes, sqs:SetQueueAttributes)",
                spec.name
            ),
            detail,
        }),
        Err(e) => Err(e),
    }
}

pub async fn ensure_queues(
    backend: &Backend,
    names: &ResourceNames,
    report: &mut SetupReport,
) -> Result<Resources, BackendError> {
    let (requests, requests_dlq) = ensure_queue_pair(backend, &names.request_queue, report).await?;
    let (responses, responses_dlq) =
        ensure_queue_pair(backend, &names.response_queue, report).await?;
    let (labels, labels_dlq) = ensure_queue_pair(backend, &names.label_queue, report).await?;
    Ok(Resources {
        requests,
        requests_dlq,
        responses,
        responses_dlq,
        labels,
        labels_dlq,
    })
}

/// Deletes reply queues idle for longer than `idle` (left by clients that crashed).
pub async fn prune_reply_queues(
    ctx: &AppContext,
    idle: Duration,
) -> Result<Vec<String>, BackendError> {
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let mut pruned = Vec::new();
    for q in ctx.backend.queues.list_queues(REPLY_QUEUE_PREFIX).await? {
        if now_ms - q.last_modified_ms > idle.as_millis() as i64 {
            ctx.backend.queues.delete_queue(&q.url).await?;
            pruned.push(q.name);
        }
    }
    Ok(pruned)
}
