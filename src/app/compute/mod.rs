//! The Compute tab's state: the numbers input (validated as you type with the domain
//! parser) and the history of requests, each matched to its reply by correlation id.

pub mod keys;
pub mod view;

use std::time::{Duration, Instant};

use crate::domain::messages::ComputeReply;
use crate::domain::names::display_safe;
use crate::domain::numbers::parse_numbers;
use crate::service::compute_client::ComputeClient;

/// A request with no reply after this long says so (and keeps listening).
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// History entries kept.
pub const HISTORY_LEN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestState {
    Sending,
    Waiting,
    /// No reply within the timeout; a late reply still lands.
    TimedOut,
    Answered {
        text: String,
        is_error: bool,
        round_trip: Duration,
    },
    /// Could not be sent at all.
    Failed(String),
}

/// A request taken from the input, to be sent: `correlation_id` is already in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub local_id: u64,
    pub correlation_id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeRequest {
    pub local_id: u64,
    pub input: String,
    /// Made before sending, so a reply that overtakes the `ComputeSent` action is matched.
    pub correlation_id: String,
    pub sent_at: Instant,
    pub state: RequestState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientState {
    Opening,
    Ready,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct ComputeState {
    pub input: String,
    /// Cursor position in characters.
    pub cursor: usize,
    pub input_focused: bool,
    /// Newest last.
    pub history: Vec<ComputeRequest>,
    /// Rows scrolled up from the newest entry.
    pub scroll: usize,
    pub next_id: u64,
    pub client: ClientState,
}

impl Default for ComputeState {
    fn default() -> Self {
        ComputeState {
            input: String::new(),
            cursor: 0,
            input_focused: true,
            history: Vec::new(),
            scroll: 0,
            next_id: 1,
            client: ClientState::Opening,
        }
    }
}

impl ComputeState {
    /// The validation message for the current input, `None` when it is valid (or empty).
    pub fn validation(&self) -> Option<String> {
        if self.input.trim().is_empty() {
            return None;
        }
        parse_numbers(&self.input).err().map(|e| e.to_string())
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.input
            .char_indices()
            .nth(chars)
            .map_or(self.input.len(), |(i, _)| i)
    }

    pub fn insert(&mut self, c: char) {
        // Only printable characters: the input is shown on the terminal as typed.
        if c.is_control() {
            return;
        }
        let at = self.byte_at(self.cursor);
        self.input.insert(at, c);
        self.cursor += 1;
    }

    pub fn delete_back(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let at = self.byte_at(self.cursor);
            self.input.remove(at);
        }
    }

    pub fn delete_forward(&mut self) {
        if self.cursor < self.input.chars().count() {
            let at = self.byte_at(self.cursor);
            self.input.remove(at);
        }
    }

    pub fn move_cursor(&mut self, delta: isize) {
        let len = self.input.chars().count();
        self.cursor = self.cursor.saturating_add_signed(delta).min(len);
    }

    pub fn cursor_home(&mut self) {
        self.cursor = 0;
    }
    pub fn cursor_end(&mut self) {
        self.cursor = self.input.chars().count();
    }
    pub fn clear(&mut self) {
        self.input.clear();
        self.cursor = 0;
    }

    /// Takes a valid input as a new request; an invalid one stays, with its message shown.
    pub fn take_request(&mut self, now: Instant) -> Result<NewRequest, String> {
        let text = self.input.trim().to_string();
        if let Err(e) = parse_numbers(&text) {
            return Err(e.to_string());
        }
        let local_id = self.next_id;
        self.next_id += 1;
        if self.history.len() == HISTORY_LEN {
            self.history.remove(0);
        }
        let correlation_id = ComputeClient::new_correlation_id();
        self.history.push(ComputeRequest {
            local_id,
            input: display_safe(&text),
            correlation_id: correlation_id.clone(),
            sent_at: now,
            state: RequestState::Sending,
        });
        self.clear();
        self.scroll = 0;
        Ok(NewRequest {
            local_id,
            correlation_id,
            text,
        })
    }

    pub fn sent(&mut self, local_id: u64, result: Result<(), String>, at: Instant) -> bool {
        let Some(req) = self.history.iter_mut().find(|r| r.local_id == local_id) else {
            return false;
        };
        if req.state != RequestState::Sending {
            // The reply overtook this confirmation: it stands.
            return false;
        }
        match result {
            Ok(()) => {
                req.sent_at = at;
                req.state = RequestState::Waiting;
            }
            Err(e) => req.state = RequestState::Failed(e),
        }
        true
    }

    /// A reply: matched by correlation id; one nobody here asked for is ignored.
    pub fn replied(&mut self, reply: &ComputeReply, at: Instant) -> bool {
        let Some(req) = self
            .history
            .iter_mut()
            .find(|r| r.correlation_id == reply.correlation_id)
        else {
            return false;
        };
        if matches!(req.state, RequestState::Answered { .. }) {
            // A redelivered reply: the first one stands.
            return false;
        }
        let (text, is_error) = match (&reply.error, &reply.result) {
            (Some(e), _) => (e.clone(), true),
            (None, Some(r)) => (r.text.clone(), false),
            (None, None) => (reply.text.clone(), false),
        };
        req.state = RequestState::Answered {
            text: display_safe(&text),
            is_error,
            round_trip: at.saturating_duration_since(req.sent_at),
        };
        true
    }

    /// Marks requests unanswered for too long; `true` when any changed.
    pub fn expire(&mut self, now: Instant) -> bool {
        let mut changed = false;
        for req in &mut self.history {
            if req.state == RequestState::Waiting
                && now.saturating_duration_since(req.sent_at) >= REPLY_TIMEOUT
            {
                req.state = RequestState::TimedOut;
                changed = true;
            }
        }
        changed
    }

    pub fn in_flight(&self) -> usize {
        self.history
            .iter()
            .filter(|r| {
                matches!(
                    r.state,
                    RequestState::Sending | RequestState::Waiting | RequestState::TimedOut
                )
            })
            .count()
    }
}
