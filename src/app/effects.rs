//! Runs `Effect`s: each becomes a tokio task (or a blocking task for decode / encode / file
//! work) that sends its result back as an `Action` carrying the id it answers. Also owns
//! the long-lived tasks: statistics refresh, compute client, worker status, queue depths.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::DynamicImage;
use image::imageops::FilterType;
use ratatui::layout::Size;
use ratatui_image::Resize;
use ratatui_image::picker::Picker;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::picture_cache::Encoded;
use super::tasks::{self, ComputeCommand, StatsCommand};
use super::upload::{PathEntry, split_path};
use super::{Action, Effect, Tab};
use crate::domain::export::ExportFormat;
use crate::domain::stats::ImageStats;
use crate::service::context::AppContext;
use crate::service::upload::UploadResult;
use crate::worker::WorkerHandle;

/// Longest side images are kept at once decoded: enough for a large tile in a pixel
/// protocol, and a bounded ~4 MiB per image whatever was uploaded.
pub const DISPLAY_MAX_SIDE: u32 = 1024;
/// Decodes running at once: bounds peak memory with big photos (and there are 2 cores).
const DECODES_AT_ONCE: usize = 1;
/// Entries listed for path completion at most (a huge folder must not stall anything).
const MAX_COMPLETIONS: usize = 2000;

/// Sends an action to the UI task. The UI may already be gone when a late task ends;
/// then the result has nobody to go to, which is fine.
fn send(tx: &mpsc::UnboundedSender<Action>, action: Action) {
    let _ = tx.send(action);
}

pub struct EffectRunner {
    ctx: AppContext,
    tx: mpsc::UnboundedSender<Action>,
    picker: Picker,
    stats: mpsc::UnboundedSender<StatsCommand>,
    compute: mpsc::UnboundedSender<ComputeCommand>,
    compute_task: JoinHandle<()>,
    visible: watch::Sender<Tab>,
    worker: Option<WorkerHandle>,
    /// Pollers and forwarders, aborted on shutdown.
    background: JoinSet<()>,
    /// One-off effect tasks; dropped (aborted) with the runner.
    jobs: JoinSet<()>,
    decode_slots: Arc<Semaphore>,
}

impl EffectRunner {
    /// Starts the long-lived tasks. `worker` is the embedded worker, if any.
    pub fn start(
        ctx: AppContext,
        tx: mpsc::UnboundedSender<Action>,
        picker: Picker,
        worker: Option<WorkerHandle>,
    ) -> Self {
        let mut background = JoinSet::new();
        let (stats, stats_rx) = mpsc::unbounded_channel();
        background.spawn(tasks::stats_loop(ctx.clone(), tx.clone(), stats_rx));
        let (visible, visible_rx) = watch::channel(Tab::Label);
        background.spawn(tasks::depth_loop(ctx.clone(), tx.clone(), visible_rx));
        if let Some(w) = &worker {
            background.spawn(tasks::worker_status_loop(w.status.clone(), tx.clone()));
            background.spawn(tasks::worker_events_loop(w.events(), tx.clone()));
        }
        let (compute, compute_rx) = mpsc::unbounded_channel();
        let compute_task = tokio::spawn(tasks::compute_loop(ctx.clone(), tx.clone(), compute_rx));
        EffectRunner {
            ctx,
            tx,
            picker,
            stats,
            compute,
            compute_task,
            visible,
            worker,
            background,
            jobs: JoinSet::new(),
            decode_slots: Arc::new(Semaphore::new(DECODES_AT_ONCE)),
        }
    }

    pub fn run(&mut self, effect: Effect) {
        // Finished jobs are reaped here so the set does not grow over a long session.
        while self.jobs.try_join_next().is_some() {}
        let tx = self.tx.clone();
        let ctx = self.ctx.clone();
        match effect {
            Effect::FetchImage { name } => {
                let slots = self.decode_slots.clone();
                self.jobs.spawn(async move {
                    let result = match crate::service::labeller::fetch_image(&ctx, &name).await {
                        Ok(bytes) => {
                            // A 12-megapixel photo needs ~36 MB while decoding: few at a time.
                            let _slot = slots.acquire_owned().await;
                            tokio::task::spawn_blocking(move || {
                                crate::service::image_check::decode_for_display(
                                    &bytes,
                                    DISPLAY_MAX_SIDE,
                                )
                                .map(Arc::new)
                            })
                            .await
                            .unwrap_or_else(|e| Err(format!("decoder crashed: {e}")))
                        }
                        Err(e) => Err(format!("cannot download: {e}")),
                    };
                    send(&tx, Action::ImageDecoded { name, result });
                });
            }
            Effect::EncodeImage { name, image, size } => {
                let picker = self.picker.clone();
                self.jobs.spawn(async move {
                    let result = tokio::task::spawn_blocking(move || encode(&picker, &image, size))
                        .await
                        .unwrap_or_else(|e| Err(format!("encoder crashed: {e}")));
                    send(&tx, Action::ImageEncoded { name, size, result });
                });
            }
            Effect::SubmitAnswers { batch, answers } => {
                self.jobs.spawn(async move {
                    let result = crate::service::labeller::submit_round(&ctx, &answers)
                        .await
                        .map_err(|e| e.to_string());
                    send(&tx, Action::AnswersSubmitted { batch, result });
                });
            }
            // The stats task ends only at shutdown; a command sent after that has no one to serve.
            Effect::WatchAnswers(pairs) => {
                let _ = self.stats.send(StatsCommand::Watch(pairs));
            }
            Effect::RefreshStats => {
                let _ = self.stats.send(StatsCommand::RefreshNow);
            }
            Effect::SendCompute {
                local_id,
                correlation_id,
                text,
            } => {
                if self
                    .compute
                    .send(ComputeCommand {
                        local_id,
                        correlation_id,
                        text,
                    })
                    .is_err()
                {
                    let result =
                        Err("the compute client has stopped; restart the session".to_string());
                    send(
                        &tx,
                        Action::ComputeSent {
                            local_id,
                            result,
                            at: Instant::now(),
                        },
                    );
                }
            }
            Effect::SetWorkerPaused(paused) => {
                if let Some(w) = &self.worker {
                    w.set_paused(paused);
                }
            }
            Effect::Export { format, images } => {
                self.jobs.spawn(async move {
                    let result = tokio::task::spawn_blocking(move || export(&ctx, &images, format))
                        .await
                        .unwrap_or_else(|e| Err(format!("export crashed: {e}")));
                    send(&tx, Action::Exported(result));
                });
            }
            Effect::CompletePath { request, input } => {
                self.jobs.spawn(async move {
                    let probe = input.clone();
                    let entries = tokio::task::spawn_blocking(move || list_for_completion(&probe))
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                    send(
                        &tx,
                        Action::PathCompleted {
                            request,
                            input,
                            entries,
                        },
                    );
                });
            }
            Effect::Upload { upload, path } => {
                self.jobs.spawn(async move {
                    let progress_tx = tx.clone();
                    let progress = move |p: crate::service::upload::UploadProgress| {
                        send(
                            &progress_tx,
                            Action::UploadProgress {
                                upload,
                                done: p.done,
                                total: p.total,
                                current: p.current,
                            },
                        );
                    };
                    let outcomes = crate::service::upload::upload_paths(
                        &ctx,
                        vec![expand_home(&path)],
                        progress,
                    )
                    .await;
                    let stored = outcomes
                        .iter()
                        .filter(|o| {
                            matches!(
                                o.result,
                                UploadResult::Stored { .. } | UploadResult::Renamed { .. }
                            )
                        })
                        .count();
                    let rejected = outcomes.iter().filter(|o| o.is_rejected()).count();
                    let lines = outcomes.iter().map(ToString::to_string).collect();
                    send(
                        &tx,
                        Action::UploadFinished {
                            upload,
                            lines,
                            stored,
                            rejected,
                        },
                    );
                });
            }
            Effect::ShowTab(tab) => {
                self.visible.send_replace(tab);
            }
        }
    }

    /// Stops everything: the compute client deletes its reply queue, the embedded worker
    /// finishes what it holds. Bounded, so a dead backend cannot hang the exit.
    pub async fn shutdown(mut self, limit: Duration) {
        self.background.abort_all();
        self.jobs.abort_all();
        drop(self.compute);
        drop(self.stats);
        let worker = self.worker.take();
        let finish = async move {
            // The compute task closes its client when its command channel closes; if it
            // panicked instead, there is nothing left to close.
            let _ = self.compute_task.await;
            if let Some(w) = worker {
                w.shutdown().await;
            }
        };
        if tokio::time::timeout(limit, finish).await.is_err() {
            tracing::warn!("shutdown took longer than {limit:?}; exiting anyway");
        }
    }
}

/// Resizes and encodes an image for one tile size (blocking: run it off the UI thread).
/// `Scale`, not `Fit`: small images grow to fill the tile; the picker's background colour
/// fills what the aspect ratio leaves over.
pub fn encode(picker: &Picker, image: &DynamicImage, size: Size) -> Result<Encoded, String> {
    picker
        .new_protocol(
            image.clone(),
            size,
            Resize::Scale(Some(FilterType::Triangle)),
        )
        .map(|p| Encoded(Arc::new(p)))
        .map_err(|e| format!("cannot encode for this terminal: {e}"))
}

/// `~/x` → `$HOME/x`, as a shell would.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ if path == "~" => {
            std::env::var_os("HOME").map_or_else(|| PathBuf::from(path), PathBuf::from)
        }
        _ => PathBuf::from(path),
    }
}

fn list_for_completion(input: &str) -> Result<Vec<PathEntry>, String> {
    let (dir, _) = split_path(input);
    let dir_path = if dir.is_empty() {
        PathBuf::from(".")
    } else {
        expand_home(dir)
    };
    let read = std::fs::read_dir(&dir_path)
        .map_err(|e| format!("cannot list {}: {e}", dir_path.display()))?;
    Ok(read
        .flatten()
        .take(MAX_COMPLETIONS)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            // Follow symlinks, so a link to a folder completes with `/`.
            let is_dir = std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
            Some(PathEntry { name, is_dir })
        })
        .collect())
}

/// Writes the export into the current directory, or the data dir when that is not writable.
fn export(ctx: &AppContext, images: &[ImageStats], format: ExportFormat) -> Result<String, String> {
    let name = crate::service::export_file::default_file_name(format);
    let mut dirs = vec![std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))];
    if let crate::backend::BackendKind::Local { data_dir } = &ctx.backend.kind {
        dirs.push(data_dir.clone());
    }
    let mut last_error = String::from("no directory to write to");
    for dir in dirs {
        let path = dir.join(&name);
        match crate::service::export_file::export(ctx, images, format, &path) {
            Ok(summary) => {
                let skipped = if summary.skipped > 0 {
                    format!(" ({} without a label left out)", summary.skipped)
                } else {
                    String::new()
                };
                return Ok(format!(
                    "Exported {} rows to {}{skipped}",
                    summary.rows,
                    path.display()
                ));
            }
            Err(e) => last_error = format!("cannot write {}: {e}", path.display()),
        }
    }
    Err(last_error)
}
