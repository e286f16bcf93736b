//! The full-screen session in a real terminal: the release binary in a detached tmux
//! session, keys pressed like a person, the screen read back with capture-pane, and the
//! answers checked through `hotdog-tui stats --json`. Also: the terminal is restored on
//! quit, SIGTERM, SIGHUP and a backend failure at start.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::process::Command;
use std::time::{Duration, Instant};

use crate::tmux::{Tmux, release_bin, session_command};
use common::install::Install;

fn label_four_and_check(i: Install) {
    let t = Tmux::start(&session_command(&i, ""), 120, 40);
    let screen = t.wait_for_settled("Round 1", Duration::from_secs(20));
    for tab in ["Compute", "Label", "Stats", "Worker"] {
        assert!(screen.contains(tab), "tab {tab} missing:\n{screen}");
    }
    t.wait_for("answered 0/4", Duration::from_secs(10));
    t.keys(&["1", "0", "1", "0"]);
    t.wait_for("Round 2", Duration::from_secs(10));
    // Wait until the embedded worker has written them, as the stats tab shows.
    let deadline = Instant::now() + Duration::from_secs(30);
    let stats = loop {
        let s = i.stats();
        if s["totals"]["votes"] == 4 || Instant::now() > deadline {
            break s;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(stats["totals"]["votes"], 4, "{stats}");
    assert_eq!(
        (
            stats["totals"]["hotdog"].as_u64(),
            stats["totals"]["not_hotdog"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let voted: Vec<&serde_json::Value> = stats["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["votes"] == 1)
        .collect();
    assert_eq!(voted.len(), 4, "four distinct images, one answer each");
    t.keys(&["F3"]);
    t.wait_for("Overall split", Duration::from_secs(10));
    t.keys(&["Tab"]);
    t.wait_for("Queue depths", Duration::from_secs(10));
    t.keys(&["F2", "q"]);
    t.assert_restored();
    assert!(t.capture().contains("EXITED:0"), "{}", t.capture());
}

#[test]
fn tui_label_four_images_local() {
    label_four_and_check(Install::local());
}

#[test]
fn tui_label_four_images_aws() {
    label_four_and_check(Install::aws());
}

#[test]
fn tui_restores_the_terminal_on_sigterm_and_sighup() {
    for signal in ["-TERM", "-HUP"] {
        let i = Install::local();
        let t = Tmux::start(&session_command(&i, ""), 100, 30);
        t.wait_for("Round 1", Duration::from_secs(20));
        let pid = t.app_pid();
        assert!(!pid.is_empty());
        assert!(
            Command::new("kill")
                .args([signal, &pid])
                .status()
                .unwrap()
                .success()
        );
        t.assert_restored();
    }
}

#[test]
fn tui_backend_failure_at_start_is_one_clear_line() {
    let i = Install::local();
    let cmd = format!(
        "AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y '{}' --backend aws --endpoint-url http://127.0.0.1:9 --bucket b --log-file '{}'",
        release_bin().display(),
        i.dir.path().join("log").display()
    );
    let t = Tmux::start(&cmd, 100, 30);
    t.assert_restored();
    let screen = t.capture();
    assert!(screen.contains("error: cannot reach the"), "{screen}");
    assert!(screen.contains("EXITED:1"), "{screen}");
}

#[test]
fn tui_too_small_terminal_says_so() {
    let i = Install::local();
    let t = Tmux::start(&session_command(&i, ""), 60, 15);
    t.wait_for("too small", Duration::from_secs(20));
    t.keys(&["C-c"]);
    t.assert_restored();
}

#[test]
fn tui_restores_the_terminal_on_panic() {
    let i = Install::local();
    let t = Tmux::start(
        &format!(
            "RUST_BACKTRACE=0 HOTDOG_TUI_TEST_PANIC=1 {}",
            session_command(&i, "")
        ),
        100,
        30,
    );
    t.assert_restored();
    let screen = t.capture();
    assert!(screen.contains("deliberate panic"), "{screen}");
    assert!(screen.contains("EXITED:101"), "{screen}");
}
