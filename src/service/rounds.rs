//! A labeller's next round, picked against the shared state: the label files (through
//! the statistics cache) and everyone's claims, then claimed for her, so labellers at work
//! together are not all handed the last images that still need a vote. The TUI and
//! `bench labels` pick rounds through here.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use futures::StreamExt;

use crate::backend::{BackendError, Fetched, ObjectStore, PutCondition};
use crate::domain::claims::{self, CLAIM_TTL_MS, CLAIMS, Claim};
use crate::domain::sampling::{ROUND_SIZE, RoundChoice, choose_round, pool};
use crate::service::context::AppContext;
use crate::service::statistics::StatsCache;

const PARALLEL_FETCHES: usize = 16;

/// Everyone's claims files, refreshed by ETag like the statistics.
#[derive(Debug, Default, Clone)]
pub struct ClaimsCache {
    files: HashMap<String, (String, Vec<Claim>)>,
}

impl ClaimsCache {
    pub async fn refresh(&mut self, store: &dyn ObjectStore) -> Result<(), BackendError> {
        let listed = store.list_all(CLAIMS).await?;
        let keys: HashSet<&str> = listed.iter().map(|o| o.key.as_str()).collect();
        self.files.retain(|k, _| keys.contains(k.as_str()));
        let changed: Vec<(String, Option<String>)> = listed
            .iter()
            .filter(|o| {
                self.files
                    .get(&o.key)
                    .is_none_or(|(etag, _)| *etag != o.etag)
            })
            .map(|o| {
                (
                    o.key.clone(),
                    self.files.get(&o.key).map(|(e, _)| e.clone()),
                )
            })
            .collect();
        let fetched: Vec<(String, Result<Fetched, BackendError>)> = futures::stream::iter(changed)
            .map(|(key, old)| async move {
                let r = match old {
                    Some(etag) => store.get_if_changed(&key, &etag).await,
                    None => store.get(&key).await.map(|o| match o {
                        Some(o) => Fetched::Changed(o),
                        None => Fetched::Missing,
                    }),
                };
                (key, r)
            })
            .buffer_unordered(PARALLEL_FETCHES)
            .collect()
            .await;
        for (key, r) in fetched {
            match r? {
                Fetched::Changed(o) => {
                    self.files.insert(key, (o.etag, claims::parse(&o.bytes)));
                }
                Fetched::Unchanged => {}
                Fetched::Missing => {
                    self.files.remove(&key);
                }
            }
        }
        Ok(())
    }

    pub fn all(&self) -> Vec<Claim> {
        self.files
            .values()
            .flat_map(|(_, c)| c.iter().cloned())
            .collect()
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// One labeller's round picking, with the caches it refreshes each time.
pub struct RoundPicker {
    pub stats: StatsCache,
    claims: ClaimsCache,
    rng: fastrand::Rng,
    /// Images claimed in her claims file now.
    held: Vec<String>,
}

impl RoundPicker {
    pub fn new(seed: u64) -> RoundPicker {
        RoundPicker {
            stats: StatsCache::new(),
            claims: ClaimsCache::default(),
            rng: fastrand::Rng::with_seed(seed),
            held: Vec::new(),
        }
    }

    /// Refreshes the label files and claims, picks up to `ROUND_SIZE` images for
    /// `ctx.user` (none in `exclude`, none she answered, counting `answered_not_written`:
    /// answers of hers sent or kept but not in the files yet), and claims them together
    /// with `keep` (the images still on her screen).
    pub async fn next_round(
        &mut self,
        ctx: &AppContext,
        exclude: &HashSet<String>,
        answered_not_written: &HashSet<String>,
        keep: &[String],
    ) -> Result<RoundChoice, BackendError> {
        let store = ctx.backend.store.as_ref();
        let (stats, claims) = tokio::join!(self.stats.refresh(ctx), self.claims.refresh(store));
        stats?;
        claims?;
        let pool = pool(
            &self.stats.image_names(),
            self.stats.summaries(),
            &self.claims.all(),
            &ctx.user,
            answered_not_written,
            now_ms(),
        );
        let choice = choose_round(
            &pool,
            ctx.votes_per_image,
            exclude,
            ROUND_SIZE,
            &mut self.rng,
        );
        let mut hold: Vec<String> = keep.to_vec();
        if let RoundChoice::Round(images) = &choice {
            hold.extend(images.iter().cloned());
        }
        self.claim(ctx, hold).await?;
        Ok(choice)
    }

    /// Rewrites her claims file to hold exactly `images` (none on quit), for the next
    /// `CLAIM_TTL_MS`.
    pub async fn claim(
        &mut self,
        ctx: &AppContext,
        images: Vec<String>,
    ) -> Result<(), BackendError> {
        if images.is_empty() && self.held.is_empty() {
            return Ok(());
        }
        let text = claims::render(&ctx.user, &images, now_ms() + CLAIM_TTL_MS);
        ctx.backend
            .store
            .put(
                &claims::claims_key(&ctx.user),
                Bytes::from(text),
                "text/plain; charset=utf-8",
                PutCondition::None,
            )
            .await?;
        self.held = images;
        Ok(())
    }
}
