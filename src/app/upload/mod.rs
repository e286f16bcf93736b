//! The upload prompt (opened with `a` on the Label tab): a path input with Tab completion,
//! then the running upload's progress and the per-file results. Listing directories for
//! completion is I/O, so it runs as an effect; `complete` here is the pure part.

pub mod keys;
pub mod tasks;
pub mod view;

use crate::app::{Overlay, State};
use crate::service::upload::UploadOutcome;

use crate::domain::names::display_safe;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadPhase {
    Editing,
    Running {
        done: usize,
        total: usize,
        current: String,
    },
    Done {
        outcomes: Vec<UploadOutcome>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadPrompt {
    pub input: String,
    pub phase: UploadPhase,
    /// Candidates of the last ambiguous completion.
    pub candidates: Vec<String>,
    /// Id of the latest completion request: an older answer is dropped.
    pub completion: u64,
    /// Id of this prompt's upload run.
    pub upload: u64,
    pub scroll: usize,
}

impl UploadPrompt {
    pub fn new(upload: u64) -> UploadPrompt {
        UploadPrompt {
            input: String::new(),
            phase: UploadPhase::Editing,
            candidates: Vec::new(),
            completion: 0,
            upload,
            scroll: 0,
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.phase, UploadPhase::Running { .. })
    }
}

/// One directory entry offered for completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathEntry {
    pub name: String,
    pub is_dir: bool,
}

/// Splits `"some/dir/pre"` into `("some/dir/", "pre")`.
pub fn split_path(input: &str) -> (&str, &str) {
    match input.rfind('/') {
        Some(i) => input.split_at(i + 1),
        None => ("", input),
    }
}

/// Completes `input` with the entries of its directory that start with its last part:
/// one match completes fully (a directory gets its `/`), several extend to their common
/// prefix and are listed. Returns the new input and the candidates to show.
pub fn complete(input: &str, entries: &[PathEntry]) -> (String, Vec<String>) {
    let (dir, prefix) = split_path(input);
    let mut matches: Vec<&PathEntry> = entries
        .iter()
        .filter(|e| e.name.starts_with(prefix))
        // Hidden entries only when asked for, like a shell.
        .filter(|e| prefix.starts_with('.') || !e.name.starts_with('.'))
        .collect();
    matches.sort_by(|a, b| a.name.cmp(&b.name));
    match matches.as_slice() {
        [] => (input.to_string(), Vec::new()),
        [only] => {
            let slash = if only.is_dir { "/" } else { "" };
            (format!("{dir}{}{slash}", only.name), Vec::new())
        }
        many => {
            let common = many
                .iter()
                .skip(1)
                .fold(many[0].name.clone(), |acc, e| common_prefix(&acc, &e.name));
            let shown = many
                .iter()
                .map(|e| display_safe(&format!("{}{}", e.name, if e.is_dir { "/" } else { "" })))
                .collect();
            (format!("{dir}{common}"), shown)
        }
    }
}

fn common_prefix(a: &str, b: &str) -> String {
    a.chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

/// Progress of the upload the prompt started (a finished or replaced prompt ignores it).
pub(crate) fn progressed(state: &mut State, upload: u64, done: usize, total: usize, current: &str) {
    if let Overlay::Upload(p) = &mut state.overlay
        && p.upload == upload
    {
        p.phase = UploadPhase::Running {
            done,
            total,
            current: crate::domain::names::display_safe(current),
        };
    }
}

/// The upload ended: a notice in any case, the per-file list if its prompt is still open.
pub(crate) fn finished(state: &mut State, upload: u64, outcomes: Vec<UploadOutcome>) {
    let (stored, rejected) = counts(&outcomes);
    state.status.info(format!(
        "Upload finished: {stored} stored, {rejected} rejected."
    ));
    if let Overlay::Upload(p) = &mut state.overlay
        && p.upload == upload
    {
        p.phase = UploadPhase::Done { outcomes };
    }
}

/// (stored, rejected) among an upload's outcomes.
pub fn counts(outcomes: &[UploadOutcome]) -> (usize, usize) {
    (
        outcomes.iter().filter(|o| o.is_stored()).count(),
        outcomes.iter().filter(|o| o.is_rejected()).count(),
    )
}
