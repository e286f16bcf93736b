//! The session's dealings with the terminal, without an X server: tmux's `allow-passthrough`
//! put back after quit, SIGTERM, SIGHUP and a panic (detached tmux sessions on a socket of
//! their own); keys typed before the terminal answers reach the app; a terminal that never
//! answers gets half-blocks after the bounded wait (a pty driven by python3); `doctor`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::install::Install;

use crate::tmux::release_bin;

/// A detached tmux server of its own (`tmux -L`), one session running `command`.
struct OwnTmux {
    socket: String,
}

impl OwnTmux {
    fn start(command: &str) -> OwnTmux {
        let socket = format!(
            "hd-setup-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        );
        let t = OwnTmux { socket };
        let shell = format!("{command}; echo EXITED:$?; sleep 60");
        let ok = t
            .cmd()
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "100",
                "-y",
                "30",
                "bash",
                "-c",
                &shell,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux must be installed (scripts/test installs it)");
        t
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket])
            .env_remove("TMUX")
            .env_remove("TMUX_PANE");
        c
    }

    fn out(&self, args: &[&str]) -> String {
        let o = self.cmd().args(args).output().unwrap();
        String::from_utf8_lossy(&o.stdout).trim_end().to_string()
    }

    fn capture(&self) -> String {
        self.out(&["capture-pane", "-p", "-t", "%0"])
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

    /// The pane's own value ("" = not set on the pane).
    fn passthrough(&self) -> String {
        self.out(&["show-options", "-p", "-v", "-t", "%0", "allow-passthrough"])
    }

    fn app_pid(&self) -> String {
        let shell = self.out(&["display-message", "-p", "-t", "%0", "#{pane_pid}"]);
        let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for OwnTmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

fn app_command(i: &Install, extra: &str) -> String {
    let args: Vec<String> = i.args.iter().map(|a| format!("'{a}'")).collect();
    format!(
        "env HOME='{}' HOTDOG_USER=tester '{}' {} {extra}",
        i.dir.path().display(),
        release_bin().display(),
        args.join(" ")
    )
}

/// Forced kitty inside tmux needs passthrough: on for the app's pane while it runs, then
/// back to "not set on the pane", however the app ends.
#[test]
fn tmux_passthrough_is_put_back_after_quit_sigterm_sighup_and_panic() {
    for how in ["q", "-TERM", "-HUP", "panic"] {
        let i = Install::local();
        let panic = if how == "panic" {
            "HOTDOG_TUI_TEST_PANIC=1 RUST_BACKTRACE=0"
        } else {
            ""
        };
        let t = OwnTmux::start(&format!(
            "{panic} {}",
            app_command(&i, "--image-protocol kitty")
        ));
        if how == "panic" {
            let screen = t.wait_for("EXITED:", Duration::from_secs(20));
            assert!(screen.contains("EXITED:101"), "{screen}");
        } else {
            t.wait_for("Round 1", Duration::from_secs(20));
            assert_eq!(t.passthrough(), "on", "{how}: on while the app runs");
            if how == "q" {
                t.cmd()
                    .args(["send-keys", "-t", "%0", "q"])
                    .status()
                    .unwrap();
            } else {
                let pid = t.app_pid();
                assert!(
                    Command::new("kill")
                        .args([how, &pid])
                        .status()
                        .unwrap()
                        .success()
                );
            }
            let screen = t.wait_for("EXITED:", Duration::from_secs(20));
            assert!(screen.contains("EXITED:0"), "{how}: {screen}");
        }
        assert_eq!(t.passthrough(), "", "{how}: put back (not set on the pane)");
        let log = std::fs::read_to_string(i.dir.path().join("log.txt")).unwrap_or_default();
        assert!(
            log.contains("protocol=\"kitty (unicode placeholders)\""),
            "{how}: {log}"
        );
    }
}

/// A value the user set on the pane is put back as it was, and auto mode in a detached
/// session (no terminal outside to ask) never touches it.
#[test]
fn tmux_passthrough_set_by_the_user_is_kept() {
    let i = Install::local();
    let t = OwnTmux::start(&format!(
        "sleep 1; {}",
        app_command(&i, "--image-protocol kitty")
    ));
    t.cmd()
        .args(["set-option", "-p", "-t", "%0", "allow-passthrough", "off"])
        .status()
        .unwrap();
    t.wait_for("Round 1", Duration::from_secs(20));
    assert_eq!(t.passthrough(), "on");
    t.cmd()
        .args(["send-keys", "-t", "%0", "q"])
        .status()
        .unwrap();
    t.wait_for("EXITED:0", Duration::from_secs(20));
    assert_eq!(t.passthrough(), "off", "the user's own pane value is back");

    let i = Install::local();
    let t = OwnTmux::start(&app_command(&i, ""));
    t.wait_for("Round 1", Duration::from_secs(20));
    assert_eq!(t.passthrough(), "", "auto mode left it alone");
    t.cmd()
        .args(["send-keys", "-t", "%0", "q"])
        .status()
        .unwrap();
    t.wait_for("EXITED:0", Duration::from_secs(20));
    assert_eq!(t.passthrough(), "");
}

/// Keys typed before the app asks the terminal (they wait in the pty) come out of the
/// answers in order: F3 opens the Stats tab.
#[test]
fn keys_typed_before_the_terminal_answers_reach_the_app() {
    let i = Install::local();
    let t = OwnTmux::start(&format!("sleep 1.5; {}", app_command(&i, "")));
    t.cmd()
        .args(["send-keys", "-t", "%0", "F3"])
        .status()
        .unwrap();
    let screen = t.wait_for("Overall split", Duration::from_secs(20));
    assert!(screen.contains("F3 Stats"), "{screen}");
    t.cmd()
        .args(["send-keys", "-t", "%0", "q"])
        .status()
        .unwrap();
    t.wait_for("EXITED:0", Duration::from_secs(20));
}

/// A terminal that answers nothing (a slow link, a dumb emulator): half-blocks after the
/// bounded wait, and the key typed during the wait is not lost.
#[test]
fn a_terminal_that_never_answers_gets_halfblocks_and_keeps_keys() {
    let i = Install::local();
    let script = r#"
import fcntl, os, pty, re, select, struct, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
out = b""
def pump(seconds):
    global out
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                out += os.read(fd, 65536)
            except OSError:
                return False
    return True
def shown(what):
    return what in re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", out)
pump(0.3)          # the app has asked; never answer
os.write(fd, b"\x1bOR")   # F3, typed while it waits
end = time.time() + 30     # the wait, seeding a fresh store, the first statistics
while not shown(b"no votes yet") and time.time() < end and pump(0.2):
    pass
os.write(fd, b"q")
pump(8)
os.waitpid(pid, 0)
text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", out)
# "no votes yet" is written only by the Stats tab's table.
sys.stdout.write("STATS_SHOWN" if b"no votes yet" in text else "NO_STATS " + repr(text[-600:]))
"#;
    let mut args = vec![
        "-c".to_string(),
        script.to_string(),
        release_bin().display().to_string(),
    ];
    args.extend(i.args.iter().cloned());
    let out = Command::new("python3")
        .args(&args)
        .env("HOME", i.dir.path())
        .env("TERM", "xterm-256color")
        .env_remove("TMUX")
        .env_remove("COLORTERM")
        .env("HOTDOG_USER", "tester")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("STATS_SHOWN"),
        "F3 typed during the wait was lost: {stdout}"
    );
    let log = std::fs::read_to_string(i.dir.path().join("log.txt")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains(" pictures "))
        .unwrap_or_default();
    assert!(line.contains("protocol=\"half-blocks\""), "{line}");
    assert!(
        line.contains("no answer to the terminal query within 1000 ms"),
        "{line}"
    );
    assert!(
        line.contains("depth=\"256 colours\""),
        "TERM=xterm-256color: {line}"
    );
}

/// `doctor` in tmux says what it found and why, and changes nothing.
#[test]
fn doctor_explains_the_choice_in_tmux() {
    let i = Install::local();
    let t = OwnTmux::start(&format!("{} doctor", app_command(&i, "")));
    let screen = t.wait_for("EXITED:", Duration::from_secs(20));
    for want in [
        "terminal     tmux 3",
        "multiplexer  tmux",
        "detached",
        "protocol     half-blocks",
        "colours      24-bit",
        "ruled out",
        "passthrough  not touched",
        "EXITED:0",
    ] {
        assert!(screen.contains(want), "{want} missing:\n{screen}");
    }
    assert_eq!(t.passthrough(), "");
}
