//! The keybinding tables: one per tab plus the global and overlay ones. Each entry is
//! `{on, run, desc}`; key lookup, the footer and the `?` help overlay all read these
//! tables, so what the help says is what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::Tab;
use crate::domain::label_file::{AnswerKind, Vote};

/// One key (code + modifiers), const-constructible so the tables can be `static`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

const fn key(code: KeyCode) -> KeySpec {
    KeySpec {
        code,
        mods: KeyModifiers::NONE,
    }
}
const fn ch(c: char) -> KeySpec {
    key(KeyCode::Char(c))
}
const fn ctrl(c: char) -> KeySpec {
    KeySpec {
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
    }
}

impl KeySpec {
    /// Whether a pressed key is this one. Shift is ignored for characters because the
    /// character itself already carries it (`?` arrives as Shift+`?` on some terminals).
    pub fn matches(&self, ev: &KeyEvent) -> bool {
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
        match (self.code, ev.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) => {
                a == b && (ev.modifiers & relevant) == (self.mods & relevant)
            }
            (a, b) => a == b && (ev.modifiers & relevant) == (self.mods & relevant),
        }
    }

    /// How the key is written in the footer and help.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Backspace => "Backspace".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        if self.mods.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{}", base.to_uppercase())
        } else {
            base
        }
    }
}

/// What a key does, in the problem's words. `update` interprets these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    ForceQuit,
    NextTab,
    PrevTab,
    GoTab(Tab),
    Help,
    ErrorLog,
    Dismiss,
    // Label tab
    Answer(AnswerKind),
    BackRound,
    FocusLeft,
    FocusRight,
    FocusUp,
    FocusDown,
    NextRound,
    Zoom,
    OpenUpload,
    // Compute tab (input line)
    SendNumbers,
    LeaveInput,
    CursorLeft,
    CursorRight,
    CursorHome,
    CursorEnd,
    DeleteBack,
    DeleteForward,
    ClearInput,
    // Lists and tables
    ScrollUp,
    ScrollDown,
    PageUp,
    PageDown,
    // Stats tab
    OpenDetail,
    CycleSort,
    Export,
    CycleExportFormat,
    OpenReview,
    // Review view
    Decide(Vote),
    ToggleLabellers,
    // Worker tab
    TogglePause,
    // Upload prompt
    Complete,
    StartUpload,
    Close,
}

/// One row of a keymap table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub on: &'static [KeySpec],
    pub run: Command,
    pub desc: &'static str,
    /// Short text for the footer; `""` keeps the binding out of it (the help shows all).
    pub footer: &'static str,
}

const fn bind(
    on: &'static [KeySpec],
    run: Command,
    desc: &'static str,
    footer: &'static str,
) -> Binding {
    Binding {
        on,
        run,
        desc,
        footer,
    }
}

/// Keys that work on every tab (and in text inputs, since none of them types a character).
#[rustfmt::skip]
pub static GLOBAL: &[Binding] = &[
    bind(&[key(KeyCode::Tab)], Command::NextTab, "next tab", ""),
    bind(&[key(KeyCode::BackTab)], Command::PrevTab, "previous tab", ""),
    bind(&[key(KeyCode::F(1))], Command::GoTab(Tab::Compute), "Compute tab", ""),
    bind(&[key(KeyCode::F(2))], Command::GoTab(Tab::Label), "Label tab", ""),
    bind(&[key(KeyCode::F(3))], Command::GoTab(Tab::Stats), "Stats tab", ""),
    bind(&[key(KeyCode::F(4))], Command::GoTab(Tab::Worker), "Worker tab", ""),
    // `?` and `!` are never valid numbers, so they stay global even in the Compute input.
    bind(&[ch('?')], Command::Help, "help", "help"),
    bind(&[ch('!')], Command::ErrorLog, "error log", ""),
    bind(&[ctrl('c')], Command::ForceQuit, "quit (from anywhere)", ""),
];

#[rustfmt::skip]
pub static LABEL: &[Binding] = &[
    bind(&[ch('1')], Command::Answer(AnswerKind::Vote(Vote::HotDog)), "hot dog", "hot dog"),
    bind(&[ch('0')], Command::Answer(AnswerKind::Vote(Vote::NotHotDog)), "not a hot dog", "not"),
    bind(&[ch('s'), ch('x')], Command::Answer(AnswerKind::Skip), "skip: can't tell (not a vote, not shown again)", "skip"),
    bind(&[key(KeyCode::Left), ch('h')], Command::FocusLeft, "focus left", ""),
    bind(&[key(KeyCode::Right), ch('l')], Command::FocusRight, "focus right", ""),
    bind(&[key(KeyCode::Up), ch('k')], Command::FocusUp, "focus up", ""),
    bind(&[key(KeyCode::Down), ch('j')], Command::FocusDown, "focus down", ""),
    bind(&[ch('u'), key(KeyCode::Backspace)], Command::BackRound, "back to the previous round, to change answers", "back"),
    bind(&[ch('n'), key(KeyCode::Enter)], Command::NextRound, "forward a round; on the newest, a new round", "next"),
    bind(&[ch('z')], Command::Zoom, "zoom: the focused image alone, still votable", "zoom"),
    bind(&[ch('a')], Command::OpenUpload, "add images (upload a file or folder)", "add images"),
    bind(&[key(KeyCode::Esc)], Command::Dismiss, "dismiss notice / leave zoom", ""),
    bind(&[ch('q')], Command::Quit, "quit", "quit"),
];

#[rustfmt::skip]
pub static COMPUTE: &[Binding] = &[
    bind(&[key(KeyCode::Enter)], Command::SendNumbers, "send to the workers", "send"),
    bind(&[key(KeyCode::Esc)], Command::LeaveInput, "leave the input / dismiss a notice", "leave input"),
    bind(&[key(KeyCode::Left)], Command::CursorLeft, "cursor left", ""),
    bind(&[key(KeyCode::Right)], Command::CursorRight, "cursor right", ""),
    bind(&[key(KeyCode::Home), ctrl('a')], Command::CursorHome, "start of line", ""),
    bind(&[key(KeyCode::End), ctrl('e')], Command::CursorEnd, "end of line", ""),
    bind(&[key(KeyCode::Backspace)], Command::DeleteBack, "delete back", ""),
    bind(&[key(KeyCode::Delete)], Command::DeleteForward, "delete", ""),
    bind(&[ctrl('u')], Command::ClearInput, "clear input", ""),
    bind(&[key(KeyCode::Up)], Command::ScrollUp, "scroll history up", "history"),
    bind(&[key(KeyCode::Down)], Command::ScrollDown, "scroll history down", ""),
];

#[rustfmt::skip]
pub static STATS: &[Binding] = &[
    bind(&[key(KeyCode::Enter)], Command::OpenDetail, "the selected image large, with every answer", "answers"),
    bind(&[ch('s')], Command::CycleSort, "cycle the sort key", "sort"),
    bind(&[ch('e')], Command::Export, "export the statistics to a file", "export"),
    bind(&[ch('f')], Command::CycleExportFormat, "switch the export format (CSV / JSONL)", "format"),
    bind(&[ch('r')], Command::OpenReview, "review the contested images (ties, low confidence)", "review"),
    bind(&[ch('l')], Command::ToggleLabellers, "show the labeller table / the image table", "labellers"),
    bind(&[key(KeyCode::Up), ch('k')], Command::ScrollUp, "select the row above", ""),
    bind(&[key(KeyCode::Down), ch('j')], Command::ScrollDown, "select the row below", ""),
    bind(&[key(KeyCode::PageUp)], Command::PageUp, "page up", ""),
    bind(&[key(KeyCode::PageDown)], Command::PageDown, "page down", ""),
    bind(&[key(KeyCode::Esc)], Command::Dismiss, "dismiss notice", ""),
    bind(&[ch('q')], Command::Quit, "quit", "quit"),
];

#[rustfmt::skip]
pub static WORKER: &[Binding] = &[
    bind(&[ch('p')], Command::TogglePause, "pause / resume the embedded worker", "pause/resume"),
    bind(&[key(KeyCode::Up), ch('k')], Command::ScrollUp, "scroll log up", ""),
    bind(&[key(KeyCode::Down), ch('j')], Command::ScrollDown, "scroll log down", ""),
    bind(&[key(KeyCode::Esc)], Command::Dismiss, "dismiss notice", ""),
    bind(&[ch('q')], Command::Quit, "quit", "quit"),
];

/// The upload prompt: a path input (typing inserts characters).
#[rustfmt::skip]
pub static UPLOAD: &[Binding] = &[
    bind(&[key(KeyCode::Tab)], Command::Complete, "complete the path", "complete"),
    bind(&[key(KeyCode::Enter)], Command::StartUpload, "upload", "upload"),
    bind(&[key(KeyCode::Esc)], Command::Close, "close", "close"),
    bind(&[key(KeyCode::Backspace)], Command::DeleteBack, "delete back", ""),
    bind(&[ctrl('u')], Command::ClearInput, "clear input", ""),
    bind(&[key(KeyCode::Up)], Command::ScrollUp, "scroll the results up", ""),
    bind(&[key(KeyCode::Down)], Command::ScrollDown, "scroll the results down", "scroll"),
    bind(&[ctrl('c')], Command::ForceQuit, "quit", ""),
];

/// The detail overlay (an image and its answers).
#[rustfmt::skip]
pub static DETAIL: &[Binding] = &[
    bind(&[key(KeyCode::Esc), ch('q'), key(KeyCode::Enter)], Command::Close, "close", "close"),
    bind(&[key(KeyCode::Up), ch('k')], Command::ScrollUp, "scroll the answers up", ""),
    bind(&[key(KeyCode::Down), ch('j')], Command::ScrollDown, "scroll the answers down", "scroll"),
    bind(&[ctrl('c')], Command::ForceQuit, "quit", ""),
];

/// The review view (contested images, `r` on the Stats tab).
#[rustfmt::skip]
pub static REVIEW: &[Binding] = &[
    bind(&[ch('1')], Command::Decide(Vote::HotDog), "decide: hot dog (reviewers only)", "hot dog"),
    bind(&[ch('0')], Command::Decide(Vote::NotHotDog), "decide: not a hot dog (reviewers only)", "not"),
    bind(&[key(KeyCode::Up), ch('k')], Command::ScrollUp, "select the image above", ""),
    bind(&[key(KeyCode::Down), ch('j')], Command::ScrollDown, "select the image below", "select"),
    bind(&[key(KeyCode::PageUp)], Command::PageUp, "page up", ""),
    bind(&[key(KeyCode::PageDown)], Command::PageDown, "page down", ""),
    bind(&[key(KeyCode::Esc), ch('q')], Command::Close, "close", "close"),
    bind(&[ctrl('c')], Command::ForceQuit, "quit", ""),
];

/// The help and error-log overlays.
#[rustfmt::skip]
pub static OVERLAY: &[Binding] = &[
    bind(&[key(KeyCode::Esc), ch('q'), ch('?')], Command::Close, "close", "close"),
    bind(&[key(KeyCode::Up), ch('k')], Command::ScrollUp, "scroll up", ""),
    bind(&[key(KeyCode::Down), ch('j')], Command::ScrollDown, "scroll down", "scroll"),
    bind(&[ctrl('c')], Command::ForceQuit, "quit", ""),
];

pub fn for_tab(tab: Tab) -> &'static [Binding] {
    match tab {
        Tab::Compute => COMPUTE,
        Tab::Label => LABEL,
        Tab::Stats => STATS,
        Tab::Worker => WORKER,
    }
}

/// The command bound to a key in a table, if any.
pub fn lookup(table: &[Binding], ev: &KeyEvent) -> Option<Command> {
    table
        .iter()
        .find(|b| b.on.iter().any(|k| k.matches(ev)))
        .map(|b| b.run)
}

/// `"←/h"`: every key of a binding, for the help and footer.
pub fn keys_label(b: &Binding) -> String {
    b.on.iter()
        .map(KeySpec::label)
        .collect::<Vec<_>>()
        .join("/")
}

/// Footer entries (`key text`) of a table, in table order; only the first key of each
/// binding and its short text, to fit 80 columns (the help lists everything).
pub fn footer(table: &[Binding]) -> Vec<(String, &'static str)> {
    footer_where(table, |_| true)
}

/// The footer entries of the bindings whose command `shown` keeps (keys that can do
/// nothing in the current state are left out of the footer; `?` still lists them).
pub fn footer_where(
    table: &[Binding],
    shown: impl Fn(&Command) -> bool,
) -> Vec<(String, &'static str)> {
    table
        .iter()
        .filter(|b| !b.footer.is_empty() && shown(&b.run))
        .filter_map(|b| b.on.first().map(|k| (k.label(), b.footer)))
        .collect()
}

/// A character typed into an input (no Ctrl/Alt chords).
pub(crate) fn typed_char(ev: &KeyEvent) -> Option<char> {
    match ev.code {
        KeyCode::Char(c)
            if !ev
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}
