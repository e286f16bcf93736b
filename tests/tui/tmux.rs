//! A detached tmux session running the release binary, driven like a person would:
//! keys sent, the screen read back with capture-pane, the process found by its pane.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::install::Install;

/// The binary as a user runs it: the one cargo built for these tests (release or the
/// test profile).
pub fn release_bin() -> PathBuf {
    // The binary cargo built for these tests, whichever profile built them.
    PathBuf::from(crate::common::install::BIN)
}

pub struct Tmux {
    pub name: String,
}

impl Tmux {
    /// Starts `command` in a shell that reports its exit code and then lingers, so the
    /// screen after the app leaves can be read.
    pub fn start(command: &str, width: u16, height: u16) -> Tmux {
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

    pub fn capture(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn display(&self, format: &str) -> String {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.name, format])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn keys(&self, keys: &[&str]) {
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

    pub fn wait_for(&self, what: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.capture();
            // A long line (the shell's "Killed" report) may wrap what we look for.
            if screen.contains(what) || screen.replace('\n', "").contains(what) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "\"{what}\" never appeared; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Like `wait_for`, and the screen the same in two captures 100 ms apart: a frame is
    /// written in several pieces, and a capture between them shows half of it (the top of a
    /// new round over the rest of the screen before).
    pub fn wait_for_settled(&self, what: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        let mut last = String::new();
        loop {
            let screen = self.wait_for(what, deadline.saturating_duration_since(Instant::now()));
            // A screen that never stops changing is returned as it is at the deadline.
            if screen == last || Instant::now() > deadline {
                return screen;
            }
            last = screen;
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The pid of the app: the shell's child.
    pub fn app_pid(&self) -> String {
        let shell = self.display("#{pane_pid}");
        let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    pub fn assert_restored(&self) {
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

pub fn session_command(i: &Install, extra: &str) -> String {
    let args: Vec<String> = i.args.iter().map(|a| format!("'{a}'")).collect();
    format!(
        "env AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing HOTDOG_USER=tester '{}' {} --image-protocol halfblocks {extra}",
        release_bin().display(),
        args.join(" ")
    )
}
