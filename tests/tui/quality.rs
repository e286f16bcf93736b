//! Gold images and review in a real terminal (the release binary in tmux), checked through
//! the CLI: a gold image set with `gold set` comes up in a labeller's round — even though it
//! has all the votes it needs — and her answer lands in its label file; a reviewer decides a
//! tie in the review view, the image leaves the list once the decision is in the file, and
//! `export` shows it adjudicated.

use crate::common;

use std::time::Duration;

use crate::tmux::{Tmux, session_command};
use common::install::{Install, Stop, image_of, text};

fn run_ok(i: &Install, args: &[&str]) -> String {
    let out = i.run(args);
    assert!(out.status.success(), "{args:?}: {:?}", text(&out));
    text(&out).0
}

#[test]
fn tui_gold_image_comes_up_in_a_round_and_her_answer_lands() {
    let i = Install::local();
    let gold = "hotdog-03.jpg";
    i.stats(); // creates (and seeds) the store before the worker and a command race to
    {
        // Someone else's vote makes it done (1 vote per image in this test).
        let _worker = Stop(i.worker());
        run_ok(&i, &["--user", "zed", "label", &format!("{gold}=1")]);
        let s = i.stats_until(Duration::from_secs(30), |s| image_of(s, gold)["votes"] == 1);
        assert_eq!(image_of(&s, gold)["votes"], 1, "{s}");
    }
    let set = run_ok(&i, &["gold", "set", &format!("{gold}=1")]);
    assert!(set.contains("1 gold image"), "{set}");
    // Every place of a round may be gold (rate 1): the first round holds it.
    let t = Tmux::start(
        &session_command(&i, "--votes-per-image 1 --gold-rate 1"),
        120,
        40,
    );
    let screen = t.wait_for_settled("answered 0/4", Duration::from_secs(20));
    assert!(screen.contains(gold), "{screen}");
    assert!(
        !screen.to_lowercase().contains("gold"),
        "nothing on screen tells it apart: {screen}"
    );
    t.keys(&["0", "0", "0", "0"]);
    let s = i.stats_until(Duration::from_secs(30), |s| {
        image_of(s, gold)["answers"] == 2
    });
    let g = image_of(&s, gold);
    assert_eq!(
        (g["answers"].as_u64(), g["not_hotdog"].as_u64()),
        (Some(2), Some(1)),
        "zed's vote and hers: {g}"
    );
    t.keys(&["q"]);
    t.assert_restored();
    assert!(t.capture().contains("EXITED:0"), "{}", t.capture());
}

#[test]
fn tui_review_decides_a_tie_it_leaves_the_list_and_export_shows_it() {
    let i = Install::local();
    let tie = "hotdog-01.jpg";
    i.stats(); // creates (and seeds) the store before the worker and a command race to
    {
        let _worker = Stop(i.worker());
        run_ok(&i, &["--user", "ann", "label", &format!("{tie}=1")]);
        run_ok(&i, &["--user", "bob", "label", &format!("{tie}=0")]);
        let s = i.stats_until(Duration::from_secs(30), |s| image_of(s, tie)["votes"] == 2);
        assert_eq!(image_of(&s, tie)["majority"], "tie", "{s}");
    }
    let t = Tmux::start(&session_command(&i, ""), 120, 40);
    t.wait_for("answered 0/4", Duration::from_secs(20));
    t.keys(&["F3"]);
    t.wait_for("Overall split", Duration::from_secs(10));
    t.keys(&["r"]);
    let screen = t.wait_for_settled("Contested (1)", Duration::from_secs(10));
    assert!(screen.contains(tie), "{screen}");
    // Every current vote, with who gave it.
    let screen = t.wait_for_settled("bob", Duration::from_secs(10));
    assert!(
        screen.contains("ann") && screen.contains("your decision (tester)"),
        "{screen}"
    );
    t.keys(&["1"]);
    // The embedded worker writes the decision; once the file shows it, the tie leaves.
    let screen = t.wait_for_settled("Nothing to review.", Duration::from_secs(30));
    assert!(screen.contains("Contested (0)"), "{screen}");
    t.keys(&["q"]);
    t.wait_for("Overall split", Duration::from_secs(10));
    t.keys(&["q"]);
    t.assert_restored();
    assert!(t.capture().contains("EXITED:0"), "{}", t.capture());

    let out = i.run(&["export", "--format", "jsonl", "--output", "-"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains(tie))
        .unwrap_or_else(|| panic!("{tie} is exported once decided: {stdout}"));
    let m: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(m["hotdog-metadata"]["adjudicated"], true, "{m}");
    assert_eq!(m["hotdog"], 1, "the reviewer said hot dog: {m}");
    // The decision is an answer in the label file, by the reviewer.
    let s = i.stats();
    assert_eq!(image_of(&s, tie)["adjudicated"], true, "{s}");
}
