//! `update` for the upload prompt (`a` on the Label tab): typing, Tab completion, the
//! running upload's progress and results.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::support as tui_support;

use crossterm::event::KeyCode;
use hotdog_tui::app::{Action, Effect, Overlay, update};
use hotdog_tui::service::upload::{UploadOutcome, UploadResult};
use tui_support::*;

#[test]
fn a_opens_the_upload_prompt_with_completion_and_progress() {
    let mut s = state();
    listed(&mut s, 0);
    ch(&mut s, 'a');
    assert!(matches!(s.overlay, Overlay::Upload(_)));
    for c in "pho".chars() {
        assert!(
            ch(&mut s, c).is_empty(),
            "typing into the prompt, not running commands"
        );
    }
    let effects = press(&mut s, KeyCode::Tab);
    assert_eq!(
        effects,
        vec![Effect::CompletePath {
            request: 1,
            input: "pho".into()
        }]
    );
    let entries = vec![
        hotdog_tui::app::upload::PathEntry {
            name: "photos".into(),
            is_dir: true,
        },
        hotdog_tui::app::upload::PathEntry {
            name: "readme".into(),
            is_dir: false,
        },
    ];
    update(
        &mut s,
        Action::PathCompleted {
            request: 1,
            input: "pho".into(),
            entries: Ok(entries.clone()),
        },
    );
    let Overlay::Upload(p) = &s.overlay else {
        panic!("prompt closed")
    };
    assert_eq!(p.input, "photos/");
    // An answer to an older request is dropped.
    update(
        &mut s,
        Action::PathCompleted {
            request: 0,
            input: "photos/".into(),
            entries: Ok(entries),
        },
    );
    let Overlay::Upload(p) = &s.overlay else {
        panic!("prompt closed")
    };
    assert_eq!(p.input, "photos/");
    let upload = p.upload;
    let effects = press(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Upload {
            upload,
            path: "photos/".into()
        }]
    );
    update(
        &mut s,
        Action::UploadProgress {
            upload,
            done: 1,
            total: 2,
            current: "photos/a.jpg".into(),
        },
    );
    let outcomes = vec![
        stored("photos/a.jpg", "a.jpg"),
        UploadOutcome {
            source: "photos/b.txt".into(),
            result: UploadResult::Rejected {
                reason: "not an image".into(),
            },
        },
    ];
    let effects = update(&mut s, Action::UploadFinished { upload, outcomes });
    assert_eq!(effects, vec![Effect::RefreshStats]);
    let Overlay::Upload(p) = &s.overlay else {
        panic!("prompt closed")
    };
    let hotdog_tui::app::upload::UploadPhase::Done { outcomes } = &p.phase else {
        panic!("{:?}", p.phase)
    };
    assert_eq!(hotdog_tui::app::upload::counts(outcomes), (1, 1));
    assert!(
        s.status
            .notice
            .as_ref()
            .is_some_and(|n| n.text == "Upload finished: 1 stored, 1 rejected.")
    );
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, Overlay::None);
}

#[test]
fn upload_prompt_editing_keys() {
    let mut s = state();
    ch(&mut s, 'a');
    for c in "ab".chars() {
        ch(&mut s, c);
    }
    press(&mut s, KeyCode::Backspace);
    let Overlay::Upload(p) = &s.overlay else {
        panic!("prompt closed")
    };
    assert_eq!(p.input, "a");
    ctrl(&mut s, 'u');
    let Overlay::Upload(p) = &s.overlay else {
        panic!("prompt closed")
    };
    assert_eq!(p.input, "");
    // Enter with nothing typed does nothing; Esc closes.
    assert!(press(&mut s, KeyCode::Enter).is_empty());
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, Overlay::None);
}

#[test]
fn path_completion_is_shell_like() {
    use hotdog_tui::app::upload::{PathEntry, complete};
    let e = |name: &str, is_dir| PathEntry {
        name: name.into(),
        is_dir,
    };
    let entries = [
        e("dogs", true),
        e("dots.png", false),
        e(".hidden", true),
        e("cat.jpg", false),
    ];
    assert_eq!(
        complete("d", &entries),
        ("do".into(), vec!["dogs/".into(), "dots.png".into()])
    );
    assert_eq!(complete("x/ca", &entries), ("x/cat.jpg".into(), vec![]));
    assert_eq!(complete("zz", &entries), ("zz".into(), vec![]));
    assert_eq!(complete(".h", &entries), (".hidden/".into(), vec![]));
}

#[test]
fn quit_and_add_work_before_the_first_listing() {
    let mut s = state();
    ch(&mut s, 'a');
    assert!(matches!(s.overlay, Overlay::Upload(_)));
    press(&mut s, KeyCode::Esc);
    ch(&mut s, 'q');
    assert!(
        s.exit.is_some(),
        "a backend that never lists cannot trap the user"
    );
}

#[test]
fn arrows_scroll_a_long_result_list() {
    let mut s = state();
    ch(&mut s, 'a');
    ch(&mut s, 'x');
    press(&mut s, KeyCode::Enter);
    let Overlay::Upload(p) = &s.overlay else {
        panic!("prompt closed")
    };
    let upload = p.upload;
    let outcomes = (0..3)
        .map(|i| stored(&format!("{i}.jpg"), &format!("{i}.jpg")))
        .collect();
    update(&mut s, Action::UploadFinished { upload, outcomes });
    for _ in 0..5 {
        press(&mut s, KeyCode::Down);
    }
    press(&mut s, KeyCode::Up);
    let Overlay::Upload(p) = &s.overlay else {
        panic!("prompt closed")
    };
    assert_eq!(p.scroll, 2);
}

fn stored(source: &str, name: &str) -> UploadOutcome {
    UploadOutcome {
        source: source.into(),
        result: UploadResult::Stored { name: name.into() },
    }
}
