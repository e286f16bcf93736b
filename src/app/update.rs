//! The `update` match: what each action does to the state. Key presses are handled in
//! `keys`; this covers time, signals and the results of effects.

use std::time::Instant;

use ratatui::layout::Size;

use super::{Action, Effect, Overlay, State, Tab, compute, update_key, upload};

pub(super) fn apply(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Key(ev) => update_key(state, ev),
        Action::Resize { width, height } => {
            state.screen = Size::new(width, height);
            state.apply_layout();
            state.label.want_images()
        }
        Action::Tick(now) => tick(state, now),
        Action::Quit => state.begin_quit(),
        Action::StatsRefreshed {
            images,
            image_names,
            labelled_by_me,
            changed,
            at,
        } => {
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
            state.stats.set_images(images, at);
            let mut effects = state.label.store_listed(image_names, labelled_by_me);
            for key in std::mem::take(&mut state.early_keys) {
                effects.extend(update_key(state, key));
            }
            effects
        }
        Action::StatsFailed(e) => {
            let msg = format!("Cannot refresh the statistics: {e}");
            if state.stats.refresh_error.as_deref() != Some(msg.as_str()) {
                state.error(msg.clone());
            }
            state.stats.refresh_error = Some(msg);
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
        Action::AnswersSubmitted { batch, result } => {
            let (mut effects, error) = state.label.submitted(batch, result);
            if let Some(e) = error {
                state.error(e);
            }
            if state.quit_deadline.is_some() {
                effects.push(Effect::RefreshStats);
            }
            state.check_exit();
            effects
        }
        Action::ComputeReady(result) => {
            state.compute.client = match result {
                Ok(()) => compute::ClientState::Ready,
                Err(e) => {
                    state.error(format!("Cannot open a reply queue for Compute: {e}. Check the backend, then restart."));
                    compute::ClientState::Failed(e)
                }
            };
            Vec::new()
        }
        Action::ComputeSent {
            local_id,
            result,
            at,
        } => {
            state.compute.sent(local_id, result, at);
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
            state.worker.depths = Some(depths);
            Vec::new()
        }
        Action::Exported(result) => {
            state.stats.exporting = false;
            match &result {
                Ok(msg) => state.status.info(msg.clone()),
                Err(e) => state.error(format!("Export failed: {e}")),
            }
            state.stats.last_export = Some(result);
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
            if let Overlay::Upload(p) = &mut state.overlay
                && p.upload == upload
            {
                p.phase = upload::UploadPhase::Running {
                    done,
                    total,
                    current: crate::domain::names::display_safe(&current),
                };
            }
            Vec::new()
        }
        Action::UploadFinished {
            upload,
            lines,
            stored,
            rejected,
        } => {
            state.status.info(format!(
                "Upload finished: {stored} stored, {rejected} rejected."
            ));
            if let Overlay::Upload(p) = &mut state.overlay
                && p.upload == upload
            {
                p.phase = upload::UploadPhase::Done {
                    lines,
                    stored,
                    rejected,
                };
            }
            vec![Effect::RefreshStats]
        }
    }
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
    state.label.retry_outbox(now)
}
