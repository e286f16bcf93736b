//! The status line's state: what the session runs on, and the last notice or error.
//! Notices fade after a while; errors stay longer and are kept in a log that `!` opens.

pub mod view;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::domain::names::display_safe;

/// How long a notice stays on the status line.
pub const NOTICE_TTL: Duration = Duration::from_secs(6);
/// Errors stay longer: the user may be looking elsewhere when one happens.
pub const ERROR_TTL: Duration = Duration::from_secs(30);
/// Errors kept in the log.
pub const ERROR_LOG_LEN: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
    pub at: Instant,
}

#[derive(Debug, Clone)]
pub struct StatusLine {
    pub backend: String,
    pub user: String,
    pub notice: Option<Notice>,
    /// Errors, newest last, with when they happened (shown as "2m ago": no clock needed).
    pub errors: VecDeque<(Instant, String)>,
    pub now: Instant,
}

impl StatusLine {
    pub fn new(backend: &str, user: &str, now: Instant) -> StatusLine {
        StatusLine {
            backend: display_safe(backend),
            user: display_safe(user),
            notice: None,
            errors: VecDeque::new(),
            now,
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            level: Level::Info,
            text: display_safe(&text.into()),
            at: self.now,
        });
    }

    /// An error: `text` should say what failed and what to do.
    pub fn error(&mut self, text: impl Into<String>) {
        let text = display_safe(&text.into());
        if self.errors.len() == ERROR_LOG_LEN {
            self.errors.pop_front();
        }
        self.errors.push_back((self.now, text.clone()));
        self.notice = Some(Notice {
            level: Level::Error,
            text,
            at: self.now,
        });
    }

    pub fn dismiss(&mut self) -> bool {
        self.notice.take().is_some()
    }

    /// Drops a notice that has been shown long enough; `true` when one was dropped.
    pub fn expire(&mut self, now: Instant) -> bool {
        self.now = now;
        let expired = self.notice.as_ref().is_some_and(|n| {
            let ttl = if n.level == Level::Error {
                ERROR_TTL
            } else {
                NOTICE_TTL
            };
            now.saturating_duration_since(n.at) >= ttl
        });
        if expired {
            self.notice = None;
        }
        expired
    }
}

/// `"12s ago"`, `"3m ago"`, `"2h ago"`.
pub fn ago(now: Instant, then: Instant) -> String {
    let s = now.saturating_duration_since(then).as_secs();
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        _ => format!("{}h ago", s / 3600),
    }
}
