//! Snapshots of every tab at 100×30 (and the small-terminal cases) on ratatui's
//! `TestBackend`. Images are small generated pictures encoded as half-blocks with the renderer of
//! fixed font size, so the snapshots do not depend on the machine.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::support as tui_support;

use std::time::Duration;

use crossterm::event::KeyCode;
use hotdog_tui::app::compute::RequestState;
use hotdog_tui::app::label::picture_cache::PictureError;
use hotdog_tui::app::worker::QueueDepths;
use hotdog_tui::app::{Action, Effect, State, update};
use hotdog_tui::backend::BackendError;
use hotdog_tui::backend::QueueDepth;
use hotdog_tui::domain::label_file::VoteCounts;
use hotdog_tui::domain::messages::ComputeReply;
use hotdog_tui::domain::stats::ImageStats;
use hotdog_tui::service::upload::{UploadOutcome, UploadResult};
use hotdog_tui::worker::{WorkerEvent, WorkerState, WorkerStatus};
use insta::assert_snapshot;
use tui_support::*;

fn labelling(width: u16, height: u16) -> State {
    let mut s = state_at(width, height, true);
    let effects = listed(&mut s, 20);
    load_images(&mut s, effects);
    ch(&mut s, '1');
    ch(&mut s, '0');
    s
}

#[test]
fn label_tab_with_images() {
    let s = labelling(100, 30);
    assert!(s.round_fully_drawable());
    assert_snapshot!(screen_text(&s));
}

#[test]
fn label_tab_back_on_an_earlier_round() {
    let mut s = labelling(100, 30);
    ch(&mut s, 's');
    let effects = ch(&mut s, '1');
    let effects = serve_picks(&mut s, effects, &names(20));
    load_images(&mut s, effects);
    assert_eq!(s.label.round.as_ref().map(|r| r.number), Some(2));
    let effects = ch(&mut s, 'u');
    load_images(&mut s, effects);
    assert!(s.round_fully_drawable());
    assert_snapshot!(screen_text(&s));
}

#[test]
fn label_tab_zoomed() {
    let mut s = labelling(100, 30);
    let effects = ch(&mut s, 'z');
    load_images(&mut s, effects);
    assert!(s.label.zoomed);
    assert_snapshot!(screen_text(&s));
}

#[test]
fn label_tab_nothing_left() {
    let mut s = state();
    let effects = listed(&mut s, 4);
    load_images(&mut s, effects);
    for c in ['1', '0', '1', '1'] {
        let effects = ch(&mut s, c);
        serve_picks(&mut s, effects, &names(4));
    }
    assert!(s.label.nothing_left.is_some());
    assert_snapshot!(screen_text(&s));
}

#[test]
fn detail_overlay_lists_every_answer() {
    use hotdog_tui::app::detail::{AnswerRow, Loaded};
    use hotdog_tui::domain::label_file::{AnswerKind, ImageSummary, Standing, Vote};
    let mut s = stats_state();
    press(&mut s, KeyCode::Down);
    let effects = press(&mut s, KeyCode::Enter);
    let Some(Effect::LoadDetail { request, image }) = effects.first().cloned() else {
        panic!("loads the detail: {effects:?}");
    };
    assert_eq!(image, "02-banana.jpg");
    let file = b"1\t2026-12-01T07:00:00.000Z\tann\ta1\n0\t2026-12-01T07:05:00.250Z\tann\ta2\ns\t2026-12-01T07:06:00Z\tbob\tb1\n0\n";
    let parsed = hotdog_tui::domain::label_file::LabelFile::parse(file);
    let rows = parsed
        .lines
        .iter()
        .zip(hotdog_tui::domain::label_file::resolve(&parsed))
        .map(|(l, standing)| AnswerRow {
            labeller: l.labeller().map(str::to_string),
            at: l.at().map(str::to_string),
            kind: l.kind(),
            standing,
        })
        .collect::<Vec<_>>();
    assert_eq!(rows[0].standing, Standing::Superseded);
    assert_eq!(rows[2].kind, AnswerKind::Skip);
    assert_eq!(rows[3].kind, AnswerKind::Vote(Vote::NotHotDog));
    let picture = std::sync::Arc::new(picture(3, 64, 48));
    let effects = update(
        &mut s,
        Action::DetailLoaded {
            request,
            result: Ok(Loaded {
                summary: ImageSummary::from_file(&parsed),
                rows,
                picture: Ok(picture.clone()),
            }),
        },
    );
    let Some(Effect::EncodeDetail { size, .. }) = effects.first().cloned() else {
        panic!("encodes the picture: {effects:?}");
    };
    let result = hotdog_tui::app::label::tasks::encode(&tui_support::picker(), &picture, size);
    update(
        &mut s,
        Action::DetailEncoded {
            request,
            size,
            result,
        },
    );
    let text = screen_text(&s);
    assert!(text.contains("hot dog (superseded)"), "{text}");
    assert!(text.contains("anonymous"), "{text}");
    assert_snapshot!(text);
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.overlay, hotdog_tui::app::Overlay::None);
}

#[test]
fn label_tab_at_80x24() {
    assert_snapshot!(screen_text(&labelling(80, 24)));
}

#[test]
fn label_tab_very_wide_uses_one_row() {
    let s = labelling(240, 40);
    assert_eq!(s.label.grid_cols, 4);
    assert_snapshot!(screen_text(&s));
}

#[test]
fn label_tab_loading_and_cannot_display() {
    let mut s = state();
    let effects = listed(&mut s, 3);
    let names = fetched(&effects);
    update(
        &mut s,
        Action::ImageDecoded {
            name: names[1].clone(),
            result: Err(PictureError::Undecodable(
                "cannot decode: truncated JPEG".into(),
            )),
        },
    );
    assert_snapshot!(screen_text(&s));
}

#[test]
fn label_tab_empty_store() {
    let mut s = state();
    listed(&mut s, 0);
    assert_snapshot!(screen_text(&s));
}

#[test]
fn label_tab_names_are_sanitised() {
    let mut s = state();
    let evil = vec!["\u{1b}[31mred\u{7}.jpg".to_string(), "ok.png".to_string()];
    listed_with(&mut s, evil, Default::default());
    let text = screen_text(&s);
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'));
    assert!(text.contains("�[31mred�.jpg"), "{text}");
}

#[test]
fn upload_prompt_with_results() {
    let mut s = state();
    listed(&mut s, 0);
    ch(&mut s, 'a');
    for c in "~/photos/".chars() {
        ch(&mut s, c);
    }
    press(&mut s, KeyCode::Enter);
    let upload = s.next_upload - 1;
    let outcomes = vec![
        UploadOutcome {
            source: "/home/alice/photos/a.jpg".into(),
            result: UploadResult::Stored {
                name: "a.jpg".into(),
            },
        },
        UploadOutcome {
            source: "/home/alice/photos/notes.txt".into(),
            result: UploadResult::Rejected {
                reason: "not a JPEG, PNG, GIF or WebP image".into(),
            },
        },
    ];
    update(&mut s, Action::UploadFinished { upload, outcomes });
    assert_snapshot!(screen_text(&s));
}

#[test]
fn compute_tab_with_history() {
    let mut s = state();
    press(&mut s, KeyCode::F(1));
    update(&mut s, Action::ComputeReady(Ok(())));
    let t0 = s.now;
    for (i, text) in ["1,12,55,4", "7 8", "3"].iter().enumerate() {
        for c in text.chars() {
            ch(&mut s, c);
        }
        press(&mut s, KeyCode::Enter);
        let id = i as u64 + 1;
        update(
            &mut s,
            Action::ComputeSent {
                local_id: id,
                result: Ok(()),
                at: t0,
            },
        );
    }
    let reply = ComputeReply {
        correlation_id: s.compute.history[0].correlation_id.clone(),
        text: "minimum is 1 maximum is 55 average is 18 median is 8".into(),
        result: None,
        error: None,
    };
    update(
        &mut s,
        Action::ComputeReply {
            reply,
            at: t0 + Duration::from_millis(3),
        },
    );
    s.compute.history[2].state = RequestState::TimedOut;
    for c in "4, x".chars() {
        ch(&mut s, c);
    }
    assert_snapshot!(screen_text(&s));
}

fn image(name: &str, hotdog: u64, not_hotdog: u64) -> ImageStats {
    ImageStats::from_counts(name, VoteCounts { hotdog, not_hotdog }, 0)
}

#[test]
fn stats_tab() {
    assert_snapshot!(screen_text(&stats_state()));
}

/// The Stats tab over four images, two of them done (3 votes each).
fn stats_state() -> State {
    let mut s = state();
    press(&mut s, KeyCode::F(3));
    let mut images = vec![
        image("01-hotdog.jpg", 5, 1),
        image("02-banana.jpg", 0, 4),
        image("03-mustard.png", 1, 1),
        image("04-unlabelled.webp", 0, 0),
    ];
    images[0].done = true;
    images[1].done = true;
    images[2].skips = 1;
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

fn worker_state(enabled: bool) -> State {
    let mut s = state_at(100, 30, enabled);
    press(&mut s, KeyCode::F(4));
    s
}

#[test]
fn worker_tab() {
    let mut s = worker_state(true);
    let now = s.now;
    for answered in [0, 3, 10, 10, 18] {
        let figures = WorkerStatus {
            state: WorkerState::Running,
            requests_answered: answered,
            answers_written: answered * 2,
            errors: 1,
            retries: 2,
            last_error: Some("label file conflict, retried".into()),
            ..Default::default()
        };
        update(&mut s, Action::WorkerStatus(figures));
        update(&mut s, Action::Tick(now));
    }
    let depth = |visible, in_flight| QueueDepth { visible, in_flight };
    let depths = QueueDepths {
        requests: depth(3, 1),
        requests_dlq: depth(0, 0),
        labels: depth(0, 2),
        labels_dlq: depth(1, 0),
    };
    update(&mut s, Action::QueueDepths(Ok(depths)));
    for (i, text) in [
        "answered 1,2,3",
        "wrote 4 answers to 3 label files",
        "cannot reply: queue gone",
    ]
    .iter()
    .enumerate()
    {
        let line = WorkerEvent {
            at: format!("12:00:0{i}"),
            text: text.to_string(),
            is_error: i == 2,
        };
        update(&mut s, Action::WorkerEvent(line));
    }
    assert_snapshot!(screen_text(&s));
}

#[test]
fn worker_tab_off() {
    assert_snapshot!(screen_text(&worker_state(false)));
}

#[test]
fn help_overlay_lists_the_label_keys() {
    let mut s = labelling(100, 30);
    ch(&mut s, '?');
    let text = screen_text(&s);
    for b in hotdog_tui::app::keymap::LABEL {
        assert!(text.contains(b.desc), "help lacks {}", b.desc);
    }
    assert_snapshot!(text);
}

#[test]
fn error_on_the_status_line_and_in_the_log() {
    let mut s = state();
    listed(&mut s, 0);
    update(
        &mut s,
        Action::StatsFailed(BackendError::Other(
            "cannot reach the object store: connection refused".into(),
        )),
    );
    assert_snapshot!("status_error", screen_text(&s));
    ch(&mut s, '!');
    assert_snapshot!("error_log", screen_text(&s));
}

#[test]
fn too_small_terminal() {
    let s = labelling(79, 24);
    assert_snapshot!(screen_text(&s));
}

/// The label files behind `stats_state`'s images, one labeller answer a minute apart, and a
/// reviewer's decision on the 1–1 image.
fn quality_report() -> hotdog_tui::domain::quality::QualityReport {
    use hotdog_tui::domain::gold::GoldSet;
    use hotdog_tui::domain::label_file::{Answer, AnswerKind, ImageSummary, Vote};
    let hot = AnswerKind::Vote(Vote::HotDog);
    let not = AnswerKind::Vote(Vote::NotHotDog);
    let files: [(&str, Vec<(&str, AnswerKind)>); 3] = [
        (
            "01-hotdog.jpg",
            vec![
                ("ann", hot),
                ("bob", hot),
                ("cat", hot),
                ("dan", hot),
                ("eve", hot),
                ("fay", not),
            ],
        ),
        (
            "02-banana.jpg",
            vec![("ann", not), ("bob", not), ("cat", not), ("dan", not)],
        ),
        (
            "03-mustard.png",
            vec![
                ("ann", hot),
                ("fay", not),
                ("cat", AnswerKind::Skip),
                ("rev", AnswerKind::Adjudication(Vote::NotHotDog)),
            ],
        ),
    ];
    let summaries: Vec<(String, ImageSummary)> = files
        .iter()
        .enumerate()
        .map(|(i, (image, answers))| {
            let text: String = answers
                .iter()
                .enumerate()
                .map(|(j, (who, kind))| {
                    Answer {
                        kind: *kind,
                        at: format!("2026-12-01T07:{:02}:{:02}Z", j, i * 10),
                        labeller: who.to_string(),
                        answer_id: format!("{image}-{j}"),
                    }
                    .to_line()
                })
                .collect();
            (image.to_string(), ImageSummary::from_bytes(text.as_bytes()))
        })
        .collect();
    let refs: Vec<(&str, &ImageSummary)> = summaries.iter().map(|(n, s)| (n.as_str(), s)).collect();
    let mut gold = GoldSet::new();
    gold.set("02-banana.jpg", Vote::NotHotDog).unwrap();
    hotdog_tui::domain::quality::assess(&refs, &gold)
}

fn quality_state() -> State {
    let mut s = stats_state();
    update(
        &mut s,
        Action::QualityComputed {
            computation: 1,
            report: Box::new(quality_report()),
            gold_problem: None,
        },
    );
    s
}

#[test]
fn stats_tab_with_quality() {
    let s = quality_state();
    let mustard = s
        .stats
        .images
        .iter()
        .find(|i| i.image == "03-mustard.png")
        .unwrap();
    assert!(mustard.adjudicated);
    assert_snapshot!(screen_text(&s));
}

#[test]
fn stats_tab_labellers() {
    let mut s = quality_state();
    ch(&mut s, 'l');
    assert!(s.stats.show_labellers);
    assert_snapshot!(screen_text(&s));
}

#[test]
fn a_late_quality_result_is_dropped_and_new_statistics_keep_the_figures() {
    let mut s = quality_state();
    let mut stale = quality_report();
    stale.labellers.clear();
    update(
        &mut s,
        Action::QualityComputed {
            computation: 1,
            report: Box::new(stale),
            gold_problem: None,
        },
    );
    let shown = s.stats.quality.as_ref().unwrap();
    assert_eq!(
        shown.report.labellers.len(),
        6,
        "the late result was dropped"
    );
    // A refresh brings images without figures: the last figures apply until the next ones.
    let before = s
        .stats
        .images
        .iter()
        .find(|i| i.image == "03-mustard.png")
        .cloned();
    let again = stats_state().stats.images.clone();
    let names = again.iter().map(|i| i.image.clone()).collect();
    let at = s.now;
    update(
        &mut s,
        Action::StatsRefreshed {
            images: again,
            image_names: names,
            changed: true,
            at,
        },
    );
    let after = s
        .stats
        .images
        .iter()
        .find(|i| i.image == "03-mustard.png")
        .cloned();
    assert_eq!(before, after);
}

/// The review view on a tie: the list (one decision on its way), the picture large, every
/// current vote, and what 1 / 0 do — or, for someone who is not a reviewer, why not.
fn review_state(reviewers: &[&str]) -> State {
    use hotdog_tui::app::detail::{AnswerRow, Loaded};
    use hotdog_tui::domain::label_file::{ImageSummary, LabelFile, resolve};
    let mut s = state();
    s.review.reviewers = reviewers.iter().map(|r| r.to_string()).collect();
    press(&mut s, KeyCode::F(3));
    let images = vec![
        image("01-hotdog.jpg", 3, 0),
        image("02-contested.jpg", 2, 2),
        image("03-split.png", 1, 1),
        image("04-other.webp", 1, 1),
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
    let effects = ch(&mut s, 'r');
    let Some(Effect::LoadReview { request, image }) = effects.first().cloned() else {
        panic!("loads the first contested image: {effects:?}");
    };
    assert_eq!(image, "02-contested.jpg");
    let file = b"1\t2026-12-01T07:00:00.000Z\tann\ta1\n0\t2026-12-01T07:01:00Z\tbob\tb1\n1\t2026-12-01T07:02:00Z\tcat\tc1\n0\t2026-12-01T07:03:00Z\tdan\td1\n1\t2026-12-01T06:59:00Z\tbob\tb0\n";
    let parsed = LabelFile::parse(file);
    let rows = parsed
        .lines
        .iter()
        .zip(resolve(&parsed))
        .map(|(l, standing)| AnswerRow {
            labeller: l.labeller().map(str::to_string),
            at: l.at().map(str::to_string),
            kind: l.kind(),
            standing,
        })
        .collect();
    let picture = std::sync::Arc::new(picture(5, 64, 48));
    let effects = update(
        &mut s,
        Action::ReviewLoaded {
            request,
            result: Ok(Loaded {
                summary: ImageSummary::from_file(&parsed),
                rows,
                picture: Ok(picture.clone()),
            }),
        },
    );
    let Some(Effect::EncodeReview { size, .. }) = effects.first().cloned() else {
        panic!("encodes the picture: {effects:?}");
    };
    let result = hotdog_tui::app::label::tasks::encode(&tui_support::picker(), &picture, size);
    update(
        &mut s,
        Action::ReviewEncoded {
            request,
            size,
            result,
        },
    );
    s
}

#[test]
fn review_view_lists_a_tie_with_every_vote() {
    let mut s = review_state(&[]);
    // A decision on the last image, on its way to the label file.
    s.review.decided.insert(
        "04-other.webp".into(),
        hotdog_tui::domain::label_file::Vote::NotHotDog,
    );
    let text = screen_text(&s);
    assert!(text.contains("Contested (3)"), "{text}");
    assert!(text.contains("→ not"), "{text}");
    assert!(
        !text.contains("b0"),
        "superseded votes are not listed: {text}"
    );
    assert_snapshot!(text);
}

#[test]
fn review_view_read_only() {
    let s = review_state(&["bob"]);
    assert_snapshot!(screen_text(&s));
}

#[test]
fn review_view_with_nothing_contested() {
    let mut s = state();
    press(&mut s, KeyCode::F(3));
    let images = vec![image("01-hotdog.jpg", 3, 0)];
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
    assert!(ch(&mut s, 'r').is_empty());
    assert_snapshot!(screen_text(&s));
}

/// Names as teams write them ("labeller-07", "ann.smith-team-a") are shown whole: beside
/// the charts they were cut to five letters, so every row read "label". Where they do not
/// fit with the answer times, the times give way.
#[test]
fn labeller_names_are_shown_whole_at_any_width() {
    let mut s = quality_state();
    ch(&mut s, 'l');
    let names: Vec<String> = {
        let report = &mut s.stats.quality.as_mut().unwrap().report;
        for l in report.labellers.iter_mut().filter(|l| !l.anonymous) {
            l.labeller = format!("{}.smith-team-a", l.labeller);
        }
        report
            .labellers
            .iter()
            .map(|l| l.labeller.clone())
            .collect()
    };
    for (width, times) in [(100, false), (160, true), (105, false), (110, true)] {
        update(&mut s, Action::Resize { width, height: 40 });
        let screen = screen_text(&s);
        for name in &names {
            assert!(screen.contains(name.as_str()), "{width}: {name}\n{screen}");
        }
        assert_eq!(screen.contains("First"), times, "{width}\n{screen}");
    }
}
