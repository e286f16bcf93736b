//! `update` on the Compute tab (action in, state and effects out).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::support as tui_support;

use std::time::Duration;

use crossterm::event::KeyCode;
use hotdog_tui::app::compute::{ClientState, REPLY_TIMEOUT, RequestState};
use hotdog_tui::app::{Action, Effect, State, update};
use hotdog_tui::backend::BackendError;
use hotdog_tui::domain::messages::ComputeReply;
use tui_support::*;

fn on_compute() -> State {
    let mut s = state();
    press(&mut s, KeyCode::F(1));
    update(&mut s, Action::ComputeReady(Ok(())));
    s
}

fn typed(s: &mut State, text: &str) {
    for c in text.chars() {
        ch(s, c);
    }
}

fn reply(id: &str, text: &str) -> ComputeReply {
    ComputeReply {
        correlation_id: id.into(),
        text: text.into(),
        result: None,
        error: None,
    }
}

#[test]
fn typing_validates_as_you_type_with_the_domain_parser() {
    let mut s = on_compute();
    assert!(s.compute.input_focused);
    typed(&mut s, "1, 12 55 4");
    assert_eq!(s.compute.validation(), None);
    typed(&mut s, ",x");
    let msg = s.compute.validation().expect("invalid");
    assert!(msg.contains("\"x\" is not a whole number"), "{msg}");
}

#[test]
fn enter_sends_a_valid_input_and_keeps_an_invalid_one() {
    let mut s = on_compute();
    typed(&mut s, "1,-2");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert_eq!(s.compute.input, "1,-2");
    assert!(s.compute.history.is_empty());
    ctrl(&mut s, 'u');
    typed(&mut s, "1,12,55,4");
    let effects = press(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::SendCompute {
            local_id: 1,
            correlation_id: s.compute.history[0].correlation_id.clone(),
            text: "1,12,55,4".into()
        }]
    );
    assert_eq!(s.compute.input, "");
    assert_eq!(s.compute.history[0].state, RequestState::Sending);
}

#[test]
fn replies_are_matched_by_correlation_id_with_several_in_flight() {
    let mut s = on_compute();
    for text in ["1 2", "3 4"] {
        typed(&mut s, text);
        press(&mut s, KeyCode::Enter);
    }
    let t0 = s.now;
    let c1 = s.compute.history[0].correlation_id.clone();
    let c2 = s.compute.history[1].correlation_id.clone();
    assert_ne!(c1, c2);
    for local_id in [1, 2] {
        update(
            &mut s,
            Action::ComputeSent {
                local_id,
                result: Ok(()),
                at: t0,
            },
        );
    }
    assert_eq!(s.compute.in_flight(), 2);
    // Out of order, plus one for somebody else.
    s.dirty = false;
    update(
        &mut s,
        Action::ComputeReply {
            reply: reply("other", "x"),
            at: t0,
        },
    );
    assert!(!s.dirty, "a reply nobody here asked for is ignored");
    update(
        &mut s,
        Action::ComputeReply {
            reply: reply(&c2, "minimum is 3"),
            at: t0 + Duration::from_millis(7),
        },
    );
    let second = &s.compute.history[1];
    assert_eq!(
        second.state,
        RequestState::Answered {
            text: "minimum is 3".into(),
            is_error: false,
            round_trip: Duration::from_millis(7)
        }
    );
    assert_eq!(s.compute.history[0].state, RequestState::Waiting);
    let err = ComputeReply {
        error: Some("bad input".into()),
        ..reply(&c1, "bad input")
    };
    update(&mut s, Action::ComputeReply { reply: err, at: t0 });
    assert!(matches!(
        &s.compute.history[0].state,
        RequestState::Answered { is_error: true, .. }
    ));
}

#[test]
fn an_unanswered_request_times_out_and_keeps_listening() {
    let mut s = on_compute();
    typed(&mut s, "5");
    press(&mut s, KeyCode::Enter);
    let t0 = s.now;
    let c1 = s.compute.history[0].correlation_id.clone();
    update(
        &mut s,
        Action::ComputeSent {
            local_id: 1,
            result: Ok(()),
            at: t0,
        },
    );
    update(&mut s, Action::Tick(t0 + REPLY_TIMEOUT));
    assert_eq!(s.compute.history[0].state, RequestState::TimedOut);
    update(
        &mut s,
        Action::ComputeReply {
            reply: reply(&c1, "minimum is 5"),
            at: t0 + REPLY_TIMEOUT * 2,
        },
    );
    assert!(matches!(
        &s.compute.history[0].state,
        RequestState::Answered { .. }
    ));
}

#[test]
fn a_send_failure_and_an_unavailable_client_are_reported() {
    let mut s = on_compute();
    typed(&mut s, "5");
    press(&mut s, KeyCode::Enter);
    let at = s.now;
    update(
        &mut s,
        Action::ComputeSent {
            local_id: 1,
            result: Err(BackendError::Other("queue gone".into())),
            at,
        },
    );
    assert_eq!(
        s.compute.history[0].state,
        RequestState::Failed("queue gone".into())
    );
    update(
        &mut s,
        Action::ComputeReady(Err(BackendError::Other("no permission".into()))),
    );
    assert!(matches!(s.compute.client, ClientState::Failed(_)));
    typed(&mut s, "6");
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    assert!(
        s.status
            .notice
            .as_ref()
            .is_some_and(|n| n.text.contains("no permission"))
    );
}

#[test]
fn editing_keys_move_the_cursor_and_delete() {
    let mut s = on_compute();
    typed(&mut s, "123");
    press(&mut s, KeyCode::Left);
    press(&mut s, KeyCode::Backspace);
    assert_eq!((s.compute.input.as_str(), s.compute.cursor), ("13", 1));
    press(&mut s, KeyCode::Home);
    press(&mut s, KeyCode::Delete);
    assert_eq!(s.compute.input, "3");
    ctrl(&mut s, 'e');
    ch(&mut s, '4');
    ctrl(&mut s, 'a');
    ch(&mut s, '0');
    press(&mut s, KeyCode::End);
    press(&mut s, KeyCode::Right);
    ch(&mut s, '5');
    assert_eq!(s.compute.input, "0345");
}

#[test]
fn esc_leaves_the_input_and_any_key_returns_to_it() {
    let mut s = on_compute();
    for text in ["1", "2", "3"] {
        typed(&mut s, text);
        press(&mut s, KeyCode::Enter);
    }
    press(&mut s, KeyCode::Esc);
    assert!(!s.compute.input_focused);
    press(&mut s, KeyCode::Up);
    press(&mut s, KeyCode::Up);
    assert_eq!(s.compute.scroll, 2);
    press(&mut s, KeyCode::Down);
    assert_eq!(s.compute.scroll, 1);
    ch(&mut s, '9');
    assert!(s.compute.input_focused);
    assert_eq!(s.compute.input, "9");
}

/// The worker can answer before `send` returns: the reply is forwarded ahead of the
/// `ComputeSent` action. The request is matched anyway (its id exists before sending), and
/// the late confirmation does not turn the answer back into "waiting".
#[test]
fn a_reply_that_overtakes_the_send_confirmation_is_kept() {
    let mut s = on_compute();
    typed(&mut s, "5 6");
    let effects = press(&mut s, KeyCode::Enter);
    let Some(Effect::SendCompute { correlation_id, .. }) = effects.first() else {
        panic!("{effects:?}");
    };
    let t0 = s.now;
    update(
        &mut s,
        Action::ComputeReply {
            reply: reply(correlation_id, "minimum is 5"),
            at: t0 + Duration::from_millis(2),
        },
    );
    update(
        &mut s,
        Action::ComputeSent {
            local_id: 1,
            result: Ok(()),
            at: t0 + Duration::from_millis(3),
        },
    );
    assert_eq!(
        s.compute.history[0].state,
        RequestState::Answered {
            text: "minimum is 5".into(),
            is_error: false,
            round_trip: Duration::from_millis(2)
        }
    );
    assert_eq!(s.compute.in_flight(), 0);
}
