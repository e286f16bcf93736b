//! `update` for the shell: tabs, help, error log, notices, quitting (flushing answers
//! first), signals, key releases, and that every keymap entry does what its table says.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::support as tui_support;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hotdog_tui::app::keymap::{self, Command};
use hotdog_tui::app::status::{ERROR_TTL, NOTICE_TTL};
use hotdog_tui::app::{Action, Effect, Overlay, QUIT_GRACE, Tab, update};
use hotdog_tui::backend::BackendError;
use tui_support::*;

#[test]
fn opens_on_label_and_asks_for_the_statistics_and_a_first_round() {
    let mut s = state();
    assert_eq!(s.tab, Tab::Label);
    assert_eq!(
        s.initial_effects(),
        vec![
            Effect::RefreshStats,
            Effect::ShowTab(Tab::Label),
            Effect::PickRound {
                request: 1,
                exclude: Vec::new(),
                keep: Vec::new(),
                answered: Vec::new(),
            }
        ]
    );
}

#[test]
fn tab_and_shift_tab_cycle_in_order() {
    let mut s = state();
    let order = [Tab::Stats, Tab::Worker, Tab::Compute, Tab::Label];
    for tab in order {
        assert_eq!(press(&mut s, KeyCode::Tab), vec![Effect::ShowTab(tab)]);
        assert_eq!(s.tab, tab);
    }
    for tab in [Tab::Compute, Tab::Worker, Tab::Stats, Tab::Label] {
        press(&mut s, KeyCode::BackTab);
        assert_eq!(s.tab, tab);
    }
}

#[test]
fn function_keys_jump_from_anywhere_and_digits_never_switch_tabs() {
    let mut s = state();
    for (n, tab) in [
        (1, Tab::Compute),
        (3, Tab::Stats),
        (4, Tab::Worker),
        (2, Tab::Label),
    ] {
        press(&mut s, KeyCode::F(n));
        assert_eq!(s.tab, tab);
    }
    press(&mut s, KeyCode::F(1));
    for c in ['1', '2', '3', '4'] {
        ch(&mut s, c);
    }
    assert_eq!(s.tab, Tab::Compute);
    assert_eq!(
        s.compute.input, "1234",
        "digits are typed into the Compute input"
    );
    press(&mut s, KeyCode::F(4));
    assert_eq!(
        s.tab,
        Tab::Worker,
        "F-keys work even from the focused input"
    );
    press(&mut s, KeyCode::Tab);
    assert_eq!(s.tab, Tab::Compute);
    assert!(
        s.compute.input_focused,
        "the input is focused whenever the tab shows"
    );
}

#[test]
fn help_and_error_log_overlays_open_scroll_and_close() {
    let mut s = state();
    ch(&mut s, '?');
    assert_eq!(s.overlay, Overlay::Help { scroll: 0 });
    ch(&mut s, 'j');
    press(&mut s, KeyCode::Down);
    ch(&mut s, 'k');
    assert_eq!(s.overlay, Overlay::Help { scroll: 1 });
    ch(&mut s, 'q');
    assert_eq!(
        s.overlay,
        Overlay::None,
        "q closes an overlay, it does not quit"
    );
    assert!(s.exit.is_none());
    ch(&mut s, '!');
    assert_eq!(s.overlay, Overlay::ErrorLog { scroll: 0 });
    press(&mut s, KeyCode::Up);
    assert_eq!(s.overlay, Overlay::ErrorLog { scroll: 0 });
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, Overlay::None);
    ch(&mut s, '?');
    ch(&mut s, '?');
    assert_eq!(s.overlay, Overlay::None);
}

#[test]
fn q_quits_from_label_stats_and_worker_but_types_on_compute() {
    for tab in [Tab::Label, Tab::Stats, Tab::Worker] {
        let mut s = state();
        s.tab = tab;
        ch(&mut s, 'q');
        assert_eq!(s.exit, Some(vec![]), "{tab:?}");
    }
    let mut s = state();
    press(&mut s, KeyCode::F(1));
    ch(&mut s, 'q');
    assert!(s.exit.is_none());
    assert_eq!(s.compute.input, "q");
}

#[test]
fn ctrl_c_quits_from_anywhere() {
    let mut s = state();
    press(&mut s, KeyCode::F(1));
    ctrl(&mut s, 'c');
    assert!(s.exit.is_some(), "from the Compute input");
    let mut s = state();
    ch(&mut s, '?');
    ctrl(&mut s, 'c');
    assert!(s.exit.is_some(), "from the help overlay");
    let mut s = state();
    ch(&mut s, 'a');
    ctrl(&mut s, 'c');
    assert!(s.exit.is_some(), "from the upload prompt");
}

fn record(s: &mut hotdog_tui::app::State, image: &str, id: &str) {
    use hotdog_tui::domain::label_file::{Answer, AnswerKind, Vote};
    let answer = hotdog_tui::domain::messages::ImageAnswer {
        image: image.into(),
        answer: Answer {
            kind: AnswerKind::Vote(Vote::HotDog),
            at: "2026-12-01T07:00:00.000Z".into(),
            labeller: "alice".into(),
            answer_id: id.into(),
        },
    };
    update(
        s,
        Action::AnswerRecorded {
            answer,
            result: Ok(()),
        },
    );
}

#[test]
fn quitting_sends_what_the_outbox_keeps_and_waits_for_it_to_be_written() {
    let mut s = state();
    outbox_ready(&mut s);
    listed(&mut s, 20);
    ch(&mut s, '1');
    ch(&mut s, '0');
    record(&mut s, "1.jpg", "a");
    record(&mut s, "2.jpg", "b");
    let effects = ch(&mut s, 'q');
    assert_eq!(effects, vec![Effect::FlushOutbox], "the outbox sends now");
    assert!(s.exit.is_none(), "waits for the flush");
    update(
        &mut s,
        Action::AnswersSent {
            answers: vec![("1.jpg".into(), "a".into()), ("2.jpg".into(), "b".into())],
            kept: Some(0),
        },
    );
    update(&mut s, Action::OutboxFlushed(Ok(0)));
    assert!(
        s.exit.is_none(),
        "the embedded worker has not written them yet"
    );
    update(&mut s, Action::AnswersWritten(vec!["a".into(), "b".into()]));
    assert_eq!(s.exit, Some(vec![]));
    assert!(!s.exit_failed);
}

#[test]
fn quitting_during_an_outage_says_how_many_answers_are_kept_and_succeeds() {
    let mut s = state();
    outbox_ready(&mut s);
    listed(&mut s, 20);
    ch(&mut s, '1');
    record(&mut s, "1.jpg", "a");
    update(
        &mut s,
        Action::SendFailed {
            error: "cannot reach the queue (SQS)".into(),
            kept: 1,
        },
    );
    ch(&mut s, 'q');
    assert!(s.exit.is_none());
    update(&mut s, Action::OutboxFlushed(Ok(1)));
    let report = s.exit.clone().expect("does not wait for the grace period");
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(
        report[0].starts_with("1 answer(s) are kept in /state/outbox/")
            && report[0].contains("cannot reach the queue (SQS)")
            && report[0].contains("hotdog-tui outbox flush"),
        "{report:?}"
    );
    assert!(!s.exit_failed, "kept is not lost");
}

#[test]
fn answers_that_could_be_neither_kept_nor_sent_fail_the_session() {
    let mut s = state();
    update(
        &mut s,
        Action::OutboxReady(Err("cannot create the folder: permission denied".into())),
    );
    listed(&mut s, 20);
    ch(&mut s, '1');
    let answer = hotdog_tui::domain::messages::ImageAnswer {
        image: "1.jpg".into(),
        answer: hotdog_tui::domain::label_file::Answer {
            kind: hotdog_tui::domain::label_file::AnswerKind::Skip,
            at: "t".into(),
            labeller: "alice".into(),
            answer_id: "a".into(),
        },
    };
    update(
        &mut s,
        Action::AnswerRecorded {
            answer,
            result: Err("the outbox is not available".into()),
        },
    );
    let effects = ch(&mut s, 'q');
    assert!(
        matches!(effects.as_slice(), [Effect::SendUnkept(a)] if a.len() == 1),
        "tries once more: {effects:?}"
    );
    let later = s.now + QUIT_GRACE + Duration::from_secs(1);
    s.set_clock(later);
    update(&mut s, Action::Tick(later));
    let report = s.exit.clone().expect("gave up");
    assert!(
        report[0].contains("1 answer(s) could not be kept (cannot create the folder")
            && report[0].contains("label them again"),
        "{report:?}"
    );
    assert!(s.exit_failed);
}

#[test]
fn a_second_ctrl_c_stops_waiting() {
    let mut s = state();
    outbox_ready(&mut s);
    listed(&mut s, 20);
    ch(&mut s, '1');
    record(&mut s, "1.jpg", "a");
    ctrl(&mut s, 'c');
    assert!(s.exit.is_none());
    ctrl(&mut s, 'c');
    assert!(s.exit.as_ref().is_some_and(|r| !r.is_empty()));
}

#[test]
fn without_a_worker_answers_in_the_queue_are_enough_to_quit() {
    let mut s = state_at(100, 30, false);
    outbox_ready(&mut s);
    listed(&mut s, 20);
    ch(&mut s, '1');
    record(&mut s, "1.jpg", "x");
    let effects = update(&mut s, Action::Quit);
    assert_eq!(effects, vec![Effect::FlushOutbox], "SIGTERM flushes like q");
    update(
        &mut s,
        Action::AnswersSent {
            answers: vec![("1.jpg".into(), "x".into())],
            kept: Some(0),
        },
    );
    update(&mut s, Action::OutboxFlushed(Ok(0)));
    let report = s.exit.clone().expect("quit");
    assert!(
        report[0].contains("waiting in the label queue"),
        "{report:?}"
    );
}

#[test]
fn key_releases_are_ignored() {
    let mut s = state();
    listed(&mut s, 20);
    s.dirty = false;
    assert!(release(&mut s, KeyCode::Char('1')).is_empty());
    assert!(!s.dirty);
    assert_eq!(s.answers_waiting(), 0);
}

#[test]
fn notices_fade_errors_last_longer_and_esc_dismisses() {
    let mut s = state();
    update(
        &mut s,
        Action::Exported(Ok(hotdog_tui::app::stats::tasks::ExportDone {
            rows: 3,
            skipped: 1,
            path: "/tmp/x.csv".into(),
        })),
    );
    assert!(s.status.notice.is_some());
    let t = s.now + NOTICE_TTL;
    update(&mut s, Action::Tick(t));
    assert!(s.status.notice.is_none());
    update(
        &mut s,
        Action::StatsFailed(BackendError::Other("store unreachable".into())),
    );
    update(&mut s, Action::Tick(t + NOTICE_TTL));
    assert!(s.status.notice.is_some(), "an error outlives a notice");
    update(&mut s, Action::Tick(t + ERROR_TTL));
    assert!(s.status.notice.is_none());
    update(
        &mut s,
        Action::StatsFailed(BackendError::Other("again".into())),
    );
    press(&mut s, KeyCode::Esc);
    assert!(s.status.notice.is_none());
    assert_eq!(s.status.errors.len(), 2, "the log keeps them");
}

#[test]
fn every_binding_in_every_table_resolves_to_its_own_command() {
    let tables = [
        ("global", keymap::GLOBAL),
        ("label", keymap::LABEL),
        ("compute", keymap::COMPUTE),
        ("stats", keymap::STATS),
        ("worker", keymap::WORKER),
        ("upload", keymap::UPLOAD),
        ("overlay", keymap::OVERLAY),
        ("detail", keymap::DETAIL),
    ];
    for (name, table) in tables {
        for b in table {
            for k in b.on {
                let ev = KeyEvent::new(k.code, k.mods);
                assert_eq!(
                    keymap::lookup(table, &ev),
                    Some(b.run),
                    "{name}: {}",
                    k.label()
                );
            }
        }
        assert!(!keymap::footer(table).is_empty(), "{name} has a footer");
    }
    // No tab key is shadowed by a global one.
    for table in [
        keymap::LABEL,
        keymap::COMPUTE,
        keymap::STATS,
        keymap::WORKER,
    ] {
        for b in table {
            for k in b.on {
                let ev = KeyEvent::new(k.code, k.mods);
                assert_eq!(
                    keymap::lookup(keymap::GLOBAL, &ev),
                    None,
                    "{} is shadowed",
                    k.label()
                );
            }
        }
    }
}

#[test]
fn pressing_every_key_of_every_tab_is_safe() {
    for tab in Tab::ALL {
        for b in keymap::for_tab(tab).iter().chain(keymap::GLOBAL) {
            for k in b.on {
                let mut s = state();
                listed(&mut s, 20);
                s.tab = tab;
                update(&mut s, Action::Key(KeyEvent::new(k.code, k.mods)));
                let quits = matches!(b.run, Command::Quit | Command::ForceQuit);
                assert_eq!(s.exit.is_some(), quits, "{tab:?} {}", k.label());
            }
        }
    }
    // A character no table binds does nothing outside text inputs.
    let mut s = state();
    s.dirty = false;
    update(
        &mut s,
        Action::Key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::NONE)),
    );
    assert!(!s.dirty);
}
