//! Talking to the tmux server around us: reading what it knows about the terminal outside
//! it, and switching `allow-passthrough` on for our own pane only when a picture needs it,
//! with the previous value put back on drop, on quit, on SIGTERM/SIGHUP (which end the
//! session normally) and from the panic hook (`restore_after_panic`).

use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Runs `tmux ARGS` against the server in `$TMUX`; its output, or `None` if it failed.
pub fn tmux(args: &[&str]) -> Option<String> {
    let out = Command::new("tmux")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// `tmux display-message -p -t PANE FORMAT`.
pub fn display(pane: &str, format: &str) -> Option<String> {
    tmux(&["display-message", "-p", "-t", pane, format])
}

/// The pane option as it was before we changed it: `None` means "not set on the pane"
/// (inherited from the window or the global value), which is restored by unsetting it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Saved {
    pane: String,
    previous: Option<String>,
}

/// What the panic hook must put back, if a guard is alive.
static ACTIVE: Mutex<Option<Saved>> = Mutex::new(None);

/// `allow-passthrough on` for one pane while alive.
#[derive(Debug)]
pub struct PassthroughGuard {
    saved: Option<Saved>,
}

impl PassthroughGuard {
    /// Reads the pane's own value, then sets `on` for `pane` (always `-t`: without it tmux
    /// changes the *active* pane, which need not be ours).
    pub fn enable(pane: &str) -> Result<PassthroughGuard, String> {
        let previous = tmux(&["show-options", "-p", "-v", "-t", pane, "allow-passthrough"])
            .ok_or_else(|| format!("cannot read allow-passthrough of tmux pane {pane}"))?;
        let previous = (!previous.is_empty()).then_some(previous);
        if previous.as_deref() == Some("on") {
            // Already on for this pane: nothing to change, nothing to put back.
            return Ok(PassthroughGuard { saved: None });
        }
        let saved = Saved {
            pane: pane.to_string(),
            previous,
        };
        // Recorded before the change, so a panic right after still restores it.
        if let Ok(mut active) = ACTIVE.lock() {
            *active = Some(saved.clone());
        }
        if tmux(&["set-option", "-p", "-t", pane, "allow-passthrough", "on"]).is_none() {
            if let Ok(mut active) = ACTIVE.lock() {
                *active = None;
            }
            return Err(format!(
                "tmux refused `set-option -p -t {pane} allow-passthrough on`"
            ));
        }
        Ok(PassthroughGuard { saved: Some(saved) })
    }

    /// Whether this guard changed the option (and so will put it back).
    pub fn changed_something(&self) -> bool {
        self.saved.is_some()
    }

    /// Puts the previous value back now.
    pub fn restore(mut self) {
        self.put_back();
    }

    fn put_back(&mut self) {
        if let Some(saved) = self.saved.take() {
            restore(&saved);
            if let Ok(mut active) = ACTIVE.lock() {
                *active = None;
            }
        }
    }
}

impl Drop for PassthroughGuard {
    fn drop(&mut self) {
        self.put_back();
    }
}

fn restore(saved: &Saved) {
    let pane = saved.pane.as_str();
    let done = match &saved.previous {
        None => tmux(&["set-option", "-p", "-u", "-t", pane, "allow-passthrough"]),
        Some(v) => tmux(&["set-option", "-p", "-t", pane, "allow-passthrough", v]),
    };
    if done.is_none() {
        tracing::warn!(pane, "could not restore tmux allow-passthrough");
    }
}

/// For the panic hook: puts the option back if a guard is alive (its `Drop` may never run).
pub fn restore_after_panic() {
    // `try_lock`: a panic while the lock is held must not deadlock the hook.
    let saved = match ACTIVE.try_lock() {
        Ok(mut active) => active.take(),
        Err(_) => None,
    };
    if let Some(saved) = saved {
        restore(&saved);
    }
}
