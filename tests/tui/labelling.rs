//! Labelling in a real terminal (the release binary in tmux), checked through the CLI:
//! going back to correct a round, skips, the detail view, the "nothing left" state, and
//! the outbox proofs — a `kill -9` right after the keys and a quit during an outage lose
//! nothing, on the local backend (the queue database held locked by another process) and
//! on moto (behind a proxy we switch off).

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::tmux::{Tmux, session_command};
use common::install::{Install, Stop, image_of, text};

/// Image names of the tiles on screen, in tile order (`╭ 1 name ─…`, `┏ 2 name ━…`).
fn tile_names(screen: &str) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for line in screen.lines() {
        for corner in ["╭ ", "┏ "] {
            for (at, _) in line.match_indices(corner) {
                let rest = &line[at + corner.len()..];
                let mut words = rest.split(' ');
                if let (Some(n), Some(name)) = (words.next(), words.next())
                    && let Ok(n) = n.parse::<usize>()
                    && (1..=4).contains(&n)
                {
                    found.push((n, name.to_string()));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found.into_iter().map(|(_, n)| n).collect()
}

fn undo_skip_and_detail(i: Install) {
    let t = Tmux::start(&session_command(&i, ""), 120, 40);
    let screen = t.wait_for_settled("answered 0/4", Duration::from_secs(20));
    let round_one = tile_names(&screen);
    assert_eq!(round_one.len(), 4, "{screen}");
    t.keys(&["1", "0", "s", "1"]);
    t.wait_for("Round 2 ·", Duration::from_secs(10));
    // Back to round 1: her answers are shown; tile 1 (focused) is corrected to "not".
    t.keys(&["u"]);
    let back = t.wait_for_settled("Round 1, earlier", Duration::from_secs(10));
    assert!(
        back.contains("✔ HOT DOG") && back.contains("? SKIPPED"),
        "{back}"
    );
    assert_eq!(tile_names(&back), round_one);
    t.keys(&["0", "n"]);
    t.wait_for("Round 2 ·", Duration::from_secs(10));
    let corrected = &round_one[0];
    let stats = i.stats_until(Duration::from_secs(30), |s| s["totals"]["answers"] == 5);
    assert_eq!(stats["totals"]["answers"], 5, "{stats}");
    assert_eq!(
        stats["totals"]["votes"], 3,
        "one vote per labeller: {stats}"
    );
    assert_eq!(stats["totals"]["skips"], 1, "{stats}");
    let c = image_of(&stats, corrected);
    assert_eq!(
        (
            c["votes"].as_u64(),
            c["not_hotdog"].as_u64(),
            c["answers"].as_u64()
        ),
        (Some(1), Some(1), Some(2)),
        "the correction superseded the first answer: {c}"
    );
    let skipped = image_of(&stats, &round_one[2]);
    assert_eq!(
        (skipped["votes"].as_u64(), skipped["skips"].as_u64()),
        (Some(0), Some(1))
    );
    // Stats: select the corrected image's row (sorted by name) and open it.
    let row = stats["images"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["image"] == corrected.as_str())
        .unwrap();
    t.keys(&["F3"]);
    t.wait_for("Overall split", Duration::from_secs(10));
    for _ in 0..row {
        t.keys(&["Down"]);
    }
    t.keys(&["Enter"]);
    let detail = t.wait_for_settled("(superseded)", Duration::from_secs(10));
    assert!(detail.contains("Answers (Esc closes"), "{detail}");
    assert!(detail.contains(corrected.as_str()), "{detail}");
    assert!(
        detail.contains("1 current vote(s): 0 hot dog, 1 not"),
        "{detail}"
    );
    assert!(detail.contains("tester"), "{detail}");
    // q closes the overlay, then quits (Esc then q within tmux's escape-time is Alt-q).
    t.keys(&["q"]);
    t.wait_for("Overall split", Duration::from_secs(10));
    t.keys(&["q"]);
    t.assert_restored();
    assert!(t.capture().contains("EXITED:0"), "{}", t.capture());
}

#[test]
fn tui_undo_skip_and_detail_local() {
    undo_skip_and_detail(Install::local());
}

#[test]
fn tui_undo_skip_and_detail_aws() {
    undo_skip_and_detail(Install::aws());
}

#[test]
fn tui_nothing_left_for_her_says_so_with_figures() {
    let i = Install::local();
    // Someone else has already given 16 of the 20 samples their one vote.
    let images: Vec<String> = i.stats()["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["image"].as_str().unwrap().to_string())
        .collect();
    let answers: Vec<String> = images[..16].iter().map(|n| format!("{n}=1")).collect();
    let mut args = vec!["--user", "other", "--votes-per-image", "1", "label"];
    args.extend(answers.iter().map(String::as_str));
    let out = i.run(&args);
    assert!(out.status.success(), "{:?}", text(&out));
    {
        let _worker = Stop(i.worker());
        let s = i.stats_until(Duration::from_secs(30), |s| s["totals"]["votes"] == 16);
        assert_eq!(s["totals"]["votes"], 16, "{s}");
    }
    let t = Tmux::start(&session_command(&i, "--votes-per-image 1"), 120, 40);
    t.wait_for_settled("answered 0/4", Duration::from_secs(20));
    // The dataset line follows once the whole index is read, which may come after the round.
    let screen = t.wait_for_settled("dataset 16/20 done", Duration::from_secs(20));
    assert!(
        screen.contains("dataset 16/20 done (1 votes each)"),
        "{screen}"
    );
    let mut last_four = tile_names(&screen);
    last_four.sort();
    assert_eq!(
        last_four,
        images[16..].to_vec(),
        "only what still needs a vote"
    );
    t.keys(&["1", "1", "0", "0"]);
    let left = t.wait_for_settled("Nothing left for you to label.", Duration::from_secs(10));
    assert!(left.contains("done of 20"), "{left}");
    assert!(
        left.contains("upload more or raise votes-per-image (now 1)"),
        "{left}"
    );
    // Her answers land and the figures follow.
    t.wait_for("20 done of 20", Duration::from_secs(20));
    t.keys(&["q"]);
    t.assert_restored();
}

/// Makes the label queue unreachable and reachable again.
enum Outage {
    /// moto behind a proxy that refuses connections while down.
    Aws {
        up: Arc<AtomicBool>,
        _runtime: tokio::runtime::Runtime,
    },
    /// Another process holds the queue database's write lock.
    Local {
        db: std::path::PathBuf,
        holder: Option<rusqlite::Connection>,
    },
}

impl Outage {
    /// An installation whose queue this can cut.
    fn install(aws: bool) -> (Install, Outage) {
        if aws {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            let up = Arc::new(AtomicBool::new(true));
            let target = common::moto::moto_endpoint()
                .trim_start_matches("http://")
                .to_string();
            let port = runtime.block_on(common::proxy(target, up.clone()));
            let i = Install::aws_via(&format!("http://127.0.0.1:{port}"));
            (
                i,
                Outage::Aws {
                    up,
                    _runtime: runtime,
                },
            )
        } else {
            let i = Install::local();
            let db = i.data_dir().join("queues.sqlite3");
            (i, Outage::Local { db, holder: None })
        }
    }

    fn down(&mut self) {
        match self {
            Outage::Aws { up, .. } => up.store(false, Ordering::SeqCst),
            Outage::Local { db, holder } => {
                let c = rusqlite::Connection::open(&*db).unwrap();
                c.execute_batch("BEGIN EXCLUSIVE").unwrap();
                *holder = Some(c);
            }
        }
    }

    fn up(&mut self) {
        match self {
            Outage::Aws { up, .. } => up.store(true, Ordering::SeqCst),
            Outage::Local { holder, .. } => {
                if let Some(c) = holder.take() {
                    c.execute_batch("ROLLBACK").unwrap();
                }
            }
        }
    }
}

fn kill_9_right_after_the_keys_loses_nothing(aws: bool) {
    let (i, mut outage) = Outage::install(aws);
    let t = Tmux::start(&session_command(&i, ""), 120, 40);
    let screen = t.wait_for_settled("answered 0/4", Duration::from_secs(20));
    let tiles = tile_names(&screen);
    outage.down();
    t.keys(&["1", "0"]);
    // Drawn only after the answers are in the outbox; killed the moment it shows.
    t.wait_for("answered 2/4", Duration::from_secs(10));
    let pid = t.app_pid();
    assert!(
        std::process::Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap()
            .success()
    );
    t.wait_for("EXITED:137", Duration::from_secs(10));
    let shown = text(&i.run(&["outbox", "show"])).0;
    assert!(shown.starts_with("2 answer(s) kept"), "{shown}");
    assert!(
        shown.contains(&tiles[0]) && shown.contains(&tiles[1]),
        "{shown}"
    );
    outage.up();
    let flushed = i.run(&["outbox", "flush"]);
    assert_eq!(
        text(&flushed).0,
        "sent 2 answer(s) to the label queue; 0 kept",
        "{flushed:?}"
    );
    let _worker = Stop(i.worker());
    // A long poll the killed session had open when the backend went away may still take
    // the message at the server (SQS semantics): it is visible again after the 30 s
    // visibility timeout, so wait longer than that.
    let stats = i.stats_until(Duration::from_secs(75), |s| s["totals"]["votes"] == 2);
    assert_eq!(image_of(&stats, &tiles[0])["hotdog"], 1, "{stats}");
    assert_eq!(image_of(&stats, &tiles[1])["not_hotdog"], 1, "{stats}");
    assert_eq!(stats["totals"]["answers"], 2, "none twice: {stats}");
}

#[test]
fn tui_kill_9_right_after_the_keys_loses_nothing_local() {
    kill_9_right_after_the_keys_loses_nothing(false);
}

#[test]
fn tui_kill_9_right_after_the_keys_loses_nothing_aws() {
    kill_9_right_after_the_keys_loses_nothing(true);
}

fn quit_during_an_outage_keeps_the_answers(aws: bool) {
    let (i, mut outage) = Outage::install(aws);
    let t = Tmux::start(&session_command(&i, ""), 120, 40);
    let screen = t.wait_for_settled("answered 0/4", Duration::from_secs(20));
    let tiles = tile_names(&screen);
    outage.down();
    t.keys(&["1", "s"]);
    t.wait_for("answered 2/4", Duration::from_secs(10));
    if aws {
        // The refused connection is noticed at once; the locked database only after
        // SQLite's busy timeout, which quitting does not wait for.
        t.wait_for("2 kept offline", Duration::from_secs(20));
    }
    t.keys(&["q"]);
    let after = t.wait_for("EXITED:", Duration::from_secs(40));
    let flat = after.replace('\n', "");
    assert!(flat.contains("2 answer(s) are kept in"), "{after}");
    assert!(flat.contains("hotdog-tui outbox flush"), "{after}");
    assert!(after.contains("EXITED:0"), "kept is not lost: {after}");
    outage.up();
    // Any command that opens the backend sends them.
    let out = i.run(&["stats"]);
    assert!(
        text(&out)
            .1
            .contains("sent 2 answer(s) kept in the outbox from an earlier session"),
        "{:?}",
        text(&out)
    );
    let _worker = Stop(i.worker());
    // As above: a receive left open by the session may hold the message for 30 s.
    let stats = i.stats_until(Duration::from_secs(75), |s| s["totals"]["answers"] == 2);
    assert_eq!(image_of(&stats, &tiles[0])["hotdog"], 1, "{stats}");
    assert_eq!(image_of(&stats, &tiles[1])["skips"], 1, "{stats}");
    assert_eq!(stats["totals"]["answers"], 2, "{stats}");
}

#[test]
fn tui_quit_during_an_outage_keeps_the_answers_local() {
    quit_during_an_outage_keeps_the_answers(false);
}

#[test]
fn tui_quit_during_an_outage_keeps_the_answers_aws() {
    quit_during_an_outage_keeps_the_answers(true);
}
