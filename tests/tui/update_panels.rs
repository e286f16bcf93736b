//! `update` on the Stats and Worker tabs (action in, state and effects out).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::support as tui_support;

use crossterm::event::KeyCode;
use hotdog_tui::app::stats::tasks::{ExportDone, ExportFailed};
use hotdog_tui::app::worker::QueueDepths;
use hotdog_tui::app::{Action, Effect, State, Tab, update};
use hotdog_tui::backend::BackendError;
use hotdog_tui::domain::export::ExportFormat;
use hotdog_tui::domain::stats::{ImageStats, SortKey};
use hotdog_tui::worker::{WorkerEvent, WorkerState, WorkerStatus};
use tui_support::*;

fn stats(name: &str, hot: u64, not: u64) -> ImageStats {
    let counts = hotdog_tui::domain::label_file::VoteCounts {
        hotdog: hot,
        not_hotdog: not,
    };
    ImageStats::from_counts(name, counts, 0)
}

fn with_stats() -> State {
    let mut s = state();
    press(&mut s, KeyCode::F(3));
    let images = vec![
        stats("a.jpg", 1, 3),
        stats("b.jpg", 5, 0),
        stats("c.jpg", 2, 2),
    ];
    let image_names = images.iter().map(|i| i.image.clone()).collect();
    let at = s.now;
    update(
        &mut s,
        Action::StatsRefreshed {
            images,
            image_names,
            changed: true,
            at,
        },
    );
    s
}

fn order(s: &State) -> Vec<&str> {
    s.stats.images.iter().map(|i| i.image.as_str()).collect()
}

#[test]
fn s_cycles_the_sort_key() {
    let mut s = with_stats();
    assert_eq!(order(&s), ["a.jpg", "b.jpg", "c.jpg"]);
    let expected = [
        (SortKey::Votes, ["b.jpg", "a.jpg", "c.jpg"]),
        (SortKey::HotDogShare, ["b.jpg", "c.jpg", "a.jpg"]),
        (SortKey::Agreement, ["b.jpg", "a.jpg", "c.jpg"]),
        (SortKey::Name, ["a.jpg", "b.jpg", "c.jpg"]),
    ];
    for (key, names) in expected {
        ch(&mut s, 's');
        assert_eq!(s.stats.sort, key);
        assert_eq!(order(&s), names, "{key:?}");
    }
    assert_eq!(s.stats.totals.votes, 13);
}

#[test]
fn e_exports_in_the_chosen_format_once_at_a_time() {
    let mut s = with_stats();
    ch(&mut s, 'f');
    assert_eq!(s.stats.export_format, ExportFormat::Jsonl);
    let effects = ch(&mut s, 'e');
    assert_eq!(
        effects,
        vec![Effect::Export {
            format: ExportFormat::Jsonl,
            images: s.stats.images.clone()
        }]
    );
    assert!(ch(&mut s, 'e').is_empty(), "one export at a time");
    update(
        &mut s,
        Action::Exported(Ok(ExportDone {
            rows: 3,
            skipped: 0,
            path: "/w/x.jsonl".into(),
        })),
    );
    assert!(!s.stats.exporting);
    assert!(
        s.status
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains("/w/x.jsonl"))
    );
    ch(&mut s, 'f');
    assert_eq!(s.stats.export_format, ExportFormat::Csv);
    update(
        &mut s,
        Action::Exported(Err(ExportFailed::Write {
            path: "/w/y.csv".into(),
            reason: "read-only".into(),
        })),
    );
    assert!(
        s.status
            .notice
            .as_ref()
            .is_some_and(|n| n.text == "Export failed: cannot write /w/y.csv: read-only"),
        "{:?}",
        s.status.notice
    );
}

#[test]
fn stats_scroll_and_unchanged_refreshes_do_not_redraw() {
    let mut s = with_stats();
    for (key, scroll) in [
        (KeyCode::Down, 1),
        (KeyCode::Char('j'), 2),
        (KeyCode::Down, 2),
        (KeyCode::Char('k'), 1),
        (KeyCode::PageDown, 2),
        (KeyCode::PageUp, 0),
    ] {
        press(&mut s, key);
        assert_eq!(s.stats.scroll, scroll, "{key:?}");
    }
    s.dirty = false;
    let at = s.now;
    update(
        &mut s,
        Action::StatsRefreshed {
            images: vec![],
            image_names: vec![],
            changed: false,
            at,
        },
    );
    assert!(!s.dirty);
    assert_eq!(s.stats.images.len(), 3);
}

fn figures(state: WorkerState, answered: u64) -> WorkerStatus {
    WorkerStatus {
        state,
        requests_answered: answered,
        ..Default::default()
    }
}

#[test]
fn p_pauses_and_resumes_the_embedded_worker() {
    let mut s = state();
    press(&mut s, KeyCode::F(4));
    assert_eq!(ch(&mut s, 'p'), vec![Effect::SetWorkerPaused(true)]);
    update(
        &mut s,
        Action::WorkerStatus(figures(WorkerState::Paused, 0)),
    );
    assert_eq!(s.worker.mode(), Some(WorkerState::Paused));
    assert_eq!(ch(&mut s, 'p'), vec![Effect::SetWorkerPaused(false)]);
}

#[test]
fn without_a_worker_the_tab_says_off_and_p_explains() {
    let mut s = state_at(100, 30, false);
    press(&mut s, KeyCode::F(4));
    assert_eq!(s.worker.mode(), None);
    assert_eq!(s.worker.mode_label(), "off");
    assert!(ch(&mut s, 'p').is_empty());
    assert!(
        s.status
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains("--no-worker"))
    );
}

#[test]
fn worker_figures_throughput_depths_and_log() {
    let mut s = state();
    press(&mut s, KeyCode::F(4));
    let now = s.now;
    update(
        &mut s,
        Action::WorkerStatus(figures(WorkerState::Running, 10)),
    );
    update(&mut s, Action::Tick(now));
    update(
        &mut s,
        Action::WorkerStatus(figures(WorkerState::Running, 25)),
    );
    update(&mut s, Action::Tick(now));
    assert_eq!(
        s.worker.throughput.iter().copied().collect::<Vec<_>>(),
        vec![0, 15]
    );
    update(&mut s, Action::QueueDepths(Ok(QueueDepths::default())));
    assert!(matches!(s.worker.depths, Some(Ok(_))));
    for i in 0..3 {
        let line = WorkerEvent {
            at: "12:00:00".into(),
            text: format!("event {i}"),
            is_error: false,
        };
        update(&mut s, Action::WorkerEvent(line));
    }
    press(&mut s, KeyCode::Up);
    ch(&mut s, 'k');
    assert_eq!(s.worker.scroll, 2);
    ch(&mut s, 'j');
    assert_eq!(s.worker.scroll, 1);
    assert_eq!(s.tab, Tab::Worker);
}

#[test]
fn a_good_refresh_after_a_failure_clears_the_error() {
    let mut s = with_stats();
    update(
        &mut s,
        Action::StatsFailed(BackendError::Other("store down".into())),
    );
    assert!(s.stats.refresh_error.is_some());
    let images = s.stats.images.clone();
    let image_names = images.iter().map(|i| i.image.clone()).collect();
    let at = s.now;
    update(
        &mut s,
        Action::StatsRefreshed {
            images,
            image_names,
            changed: true,
            at,
        },
    );
    assert!(s.stats.refresh_error.is_none());
    assert!(
        s.status
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains("answers again"))
    );
}

/// Only the rows in view are built; the window moves just enough to keep the selected row
/// in it, as ratatui's own table scrolling does.
#[test]
fn the_image_table_builds_only_the_rows_in_view() {
    let mut s = state();
    s.stats.images = (0..100_000)
        .map(|i| stats(&format!("{i:06}.jpg"), 1, 0))
        .collect();
    let st = &mut s.stats;
    assert_eq!(st.rows_in_view(20), 0..20);
    st.scroll = 19;
    assert_eq!(st.rows_in_view(20), 0..20);
    st.scroll = 20;
    assert_eq!(st.rows_in_view(20), 1..21);
    st.scroll = 5_000;
    assert_eq!(st.rows_in_view(20), 4_981..5_001);
    // Back up inside the window: it stays; above it: it follows.
    st.scroll = 4_990;
    assert_eq!(st.rows_in_view(20), 4_981..5_001);
    st.scroll = 100;
    assert_eq!(st.rows_in_view(20), 100..120);
    st.scroll = 99_999;
    assert_eq!(st.rows_in_view(20), 99_980..100_000);
    // Fewer images than rows, or a selection past the end after a refresh: no panic.
    st.images.truncate(3);
    assert_eq!(st.rows_in_view(20), 0..3);
    st.scroll = 2;
    assert_eq!(st.rows_in_view(0), 2..3);
}
