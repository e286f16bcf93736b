//! The `update` match: what each action does to the state. Key presses are handled in
//! `keys`; this covers time, signals and the results of effects.

use std::time::Instant;

use ratatui::layout::Size;

use super::{
    Action, Effect, Overlay, State, Tab, compute, detail, label, review, stats, update_key, upload,
};
use crate::backend::BackendError;
use crate::domain::messages::ImageAnswer;
use crate::domain::sampling::RoundChoice;
use crate::domain::stats::ImageStats;

pub(super) fn apply(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(ev) => update_key(state, ev),
        Action::Resize { width, height } => {
            state.screen = Size::new(width, height);
            state.apply_layout();
            let mut effects = state.label.want_images();
            effects.extend(detail::resized(state));
            effects.extend(review::resized(state));
            effects
        }
        Action::Tick(now) => tick(state, now),
        Action::Quit => state.begin_quit(),
        Action::StatsRefreshed {
            images,
            image_names,
            changed,
            at,
        } => stats_refreshed(state, images, image_names, changed, at),
        Action::RoundPicked { request, result } => round_picked(state, request, result),
        Action::GoldImages(gold) => {
            state.label.gold = gold.into_iter().collect();
            state.dirty = false;
            Vec::new()
        }
        Action::OutboxReady(result) => {
            outbox_ready(state, result);
            Vec::new()
        }
        Action::AnswerRecorded { answer, result } => answer_recorded(state, answer, result),
        Action::AnswersSent { answers, kept } => {
            let effects = state.label.sent(&answers, kept);
            state.check_exit();
            effects
        }
        Action::SendFailed { error, kept } => {
            send_failed(state, error, kept);
            Vec::new()
        }
        Action::OutboxFlushed(result) => {
            outbox_flushed(state, result);
            Vec::new()
        }
        Action::DetailLoaded { request, result } => detail::loaded(state, request, result),
        Action::DetailEncoded {
            request,
            size,
            result,
        } => {
            state.dirty = detail::encoded(state, request, size, result);
            Vec::new()
        }
        Action::ReviewLoaded { request, result } => review::loaded(state, request, result),
        Action::ReviewEncoded {
            request,
            size,
            result,
        } => {
            state.dirty = review::encoded(state, request, size, result);
            Vec::new()
        }
        Action::QualityComputed {
            computation,
            report,
            gold_problem,
        } => {
            if !state.stats.set_quality(computation, *report, gold_problem) {
                state.dirty = false;
                return Vec::new();
            }
            // The confidences changed: the review list follows.
            review::refreshed(state)
        }
        Action::StatsFailed(e) => {
            stats_failed(state, e);
            Vec::new()
        }
        Action::AnswersWritten(ids) => {
            state.label.written(&ids);
            state.check_exit();
            Vec::new()
        }
        Action::ImageDecoded { name, result } => {
            if state.label.images.decoded(&name, result) {
                state.label.want_images()
            } else {
                Vec::new()
            }
        }
        Action::ImageEncoded { name, size, result } => {
            state.dirty = state.label.images.encoded(&name, size, result);
            Vec::new()
        }
        Action::ComputeReady(result) => {
            compute_ready(state, result);
            Vec::new()
        }
        Action::ComputeSent {
            local_id,
            result,
            at,
        } => {
            state
                .compute
                .sent(local_id, result.map_err(|e| e.to_string()), at);
            Vec::new()
        }
        Action::ComputeReply { reply, at } => {
            state.dirty = state.compute.replied(&reply, at);
            Vec::new()
        }
        Action::WorkerStatus(figures) => {
            state.worker.figures = Some(figures);
            Vec::new()
        }
        Action::WorkerEvent(line) => {
            state.dirty = state.tab == Tab::Worker;
            state.worker.push_event(line);
            Vec::new()
        }
        Action::QueueDepths(depths) => {
            state.dirty = state.tab == Tab::Worker;
            state.worker.depths = Some(depths.map_err(|e| e.to_string()));
            Vec::new()
        }
        Action::Exported(result) => {
            exported(state, result);
            Vec::new()
        }
        Action::PathCompleted {
            request,
            input,
            entries,
        } => upload::keys::path_completed(state, request, &input, entries),
        Action::UploadProgress {
            upload,
            done,
            total,
            current,
        } => {
            upload::progressed(state, upload, done, total, &current);
            Vec::new()
        }
        Action::UploadFinished { upload, outcomes } => {
            upload::finished(state, upload, outcomes);
            vec![Effect::RefreshStats]
        }
    }
}

fn stats_refreshed(
    state: &mut State,
    images: Vec<ImageStats>,
    image_names: Vec<String>,
    changed: bool,
    at: Instant,
) -> Vec<Effect> {
    let first = state.stats.refreshed_at.is_none() || state.label.images_in_store.is_none();
    if !changed && !first {
        state.dirty = false;
        return Vec::new();
    }
    if state.stats.refresh_error.is_some() {
        state
            .status
            .info("The store answers again; statistics are live.");
    }
    let mut effects = state.label.store_listed(&images, &image_names);
    state.stats.set_images(images, at);
    state.stats.progress = state.label.progress;
    effects.extend(review::refreshed(state));
    effects
}

fn stats_failed(state: &mut State, e: BackendError) {
    let msg = format!("Cannot refresh the statistics: {e}");
    // One error per outage in the log, not one per refresh.
    if state.stats.refresh_error.as_deref() != Some(msg.as_str()) {
        state.error(msg.clone());
    }
    state.stats.refresh_error = Some(msg);
}

fn round_picked(
    state: &mut State,
    request: u64,
    result: Result<RoundChoice, BackendError>,
) -> Vec<Effect> {
    let result = result.map_err(|e| e.to_string());
    if let Err(e) = &result
        && state.label.picking == Some(request)
        && state.label.pick_error.as_deref() != Some(e.as_str())
    {
        state.error(format!(
            "Cannot pick a round: {e}. Your answers are kept; a new round is asked for with the next refresh."
        ));
    }
    let mut effects = state.label.picked(request, result);
    if state.label.round.is_some() || state.label.nothing_left.is_some() {
        // Round keys pressed before the first round act on it now, in order.
        for key in std::mem::take(&mut state.early_keys) {
            effects.extend(update_key(state, key));
        }
    }
    effects
}

fn outbox_ready(state: &mut State, result: Result<String, String>) {
    match result {
        Ok(path) => state.label.outbox = label::OutboxState::Ready { path },
        Err(error) => {
            state.error(format!(
                "Answers cannot be kept on disk ({error}): they go straight to the label queue, and are lost if it cannot be reached."
            ));
            state.label.outbox = label::OutboxState::Unavailable { error };
        }
    }
}

fn answer_recorded(
    state: &mut State,
    answer: ImageAnswer,
    result: Result<(), String>,
) -> Vec<Effect> {
    if let Err(e) = &result {
        state.error(format!(
            "Could not keep your answer on disk ({e}); sending it straight to the label queue."
        ));
    }
    state.label.recorded(answer, result)
}

fn send_failed(state: &mut State, error: String, kept: usize) {
    // One notice per outage; the header keeps counting what is kept.
    if state.label.send_error.is_none() {
        state.error(format!(
            "Cannot reach the label queue ({error}). {kept} answer(s) are kept on disk and sent by themselves when it is back."
        ));
    }
    state.label.kept = kept;
    state.label.send_error = Some(error);
    state.check_exit();
}

fn outbox_flushed(state: &mut State, result: Result<usize, String>) {
    state.flushing = false;
    match result {
        Ok(kept) => state.label.kept = kept,
        Err(e) => {
            state.error(format!("Cannot read the outbox: {e}"));
            state.label.send_error.get_or_insert(e);
        }
    }
    state.check_exit();
}

fn compute_ready(state: &mut State, result: Result<(), BackendError>) {
    state.compute.client = match result {
        Ok(()) => compute::ClientState::Ready,
        Err(e) => {
            state.error(format!(
                "Cannot open a reply queue for Compute: {e}. Check the backend, then restart."
            ));
            compute::ClientState::Failed(e.to_string())
        }
    };
}

fn exported(
    state: &mut State,
    result: Result<stats::tasks::ExportDone, stats::tasks::ExportFailed>,
) {
    state.stats.exporting = false;
    match &result {
        Ok(done) => state.status.info(done.to_string()),
        Err(e) => state.error(format!("Export failed: {e}")),
    }
    state.stats.last_export = Some(result);
}

fn tick(state: &mut State, now: Instant) -> Vec<Effect> {
    state.now = now;
    let mut visible = state.status.expire(now);
    visible |= state.compute.expire(now) && state.tab == Tab::Compute;
    state.worker.sample();
    visible |= state.tab == Tab::Worker;
    // Relative times ("12s ago") in the error log move on.
    visible |= matches!(state.overlay, Overlay::ErrorLog { .. });
    if state.quit_deadline.is_some() {
        state.check_exit();
        visible = true;
    }
    state.dirty = visible;
    Vec::new()
}
