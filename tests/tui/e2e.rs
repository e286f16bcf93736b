//! The full-screen session in a real terminal: the release binary in a detached tmux
//! session, keys pressed like a person, the screen read back with capture-pane, and the
//! answers checked through `hotdog-tui stats --json`. Also: the terminal is restored on
//! quit, SIGTERM, SIGHUP and a backend failure at start.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::install::Install;

/// The release binary, as a user runs it (`scripts/test` builds it first).
fn release_bin() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/hotdog-tui");
    assert!(
        p.exists(),
        "build the release binary first (scripts/test does): {}",
        p.display()
    );
    p
}

struct Tmux {
    name: String,
}

impl Tmux {
    /// Starts `command` in a shell that reports its exit code and then lingers, so the
    /// screen after the app leaves can be read.
    fn start(command: &str, width: u16, height: u16) -> Tmux {
        let name = format!("hd-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let shell = format!("{command}; echo EXITED:$?; sleep 60");
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                "bash",
                "-c",
                &shell,
            ])
            .env_remove("TMUX")
            .status()
            .expect("tmux must be installed (scripts/test installs it)");
        assert!(ok.success());
        Tmux { name }
    }

    fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn display(&self, format: &str) -> String {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.name, format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            assert!(
                Command::new("tmux")
                    .args(["send-keys", "-t", &self.name, k])
                    .status()
                    .unwrap()
                    .success()
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn wait_for(&self, what: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.capture();
            if screen.contains(what) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "\"{what}\" never appeared; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pid of the app: the shell's child.
    fn app_pid(&self) -> String {
        let shell = self.display("#{pane_pid}");
        let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    fn assert_restored(&self) {
        let screen = self.wait_for("EXITED:", Duration::from_secs(15));
        assert_eq!(
            self.display("#{alternate_on}"),
            "0",
            "left the alternate screen:\n{screen}"
        );
        assert_eq!(self.display("#{cursor_flag}"), "1", "cursor shown again");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

fn session_command(i: &Install, extra: &str) -> String {
    let args: Vec<String> = i.args.iter().map(|a| format!("'{a}'")).collect();
    format!(
        "env AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing HOTDOG_USER=tester '{}' {} --image-protocol halfblocks {extra}",
        release_bin().display(),
        args.join(" ")
    )
}

fn label_four_and_check(i: Install) {
    let t = Tmux::start(&session_command(&i, ""), 120, 40);
    let screen = t.wait_for("Round 1", Duration::from_secs(20));
    for tab in ["Compute", "Label", "Stats", "Worker"] {
        assert!(screen.contains(tab), "tab {tab} missing:\n{screen}");
    }
    t.wait_for("labelled 0/4", Duration::from_secs(10));
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
