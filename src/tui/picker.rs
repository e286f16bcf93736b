//! Choosing how images are drawn on this terminal (kitty, sixel, iTerm2 or half-blocks).
//! The one piece of `ui` that does I/O: `tui` calls it once at start-up, after entering the
//! alternate screen and before the event reader starts, to query the terminal.

use std::io::{IsTerminal, Read, Write};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_image::FontSize;
use ratatui_image::picker::cap_parser::{Parser, QueryStdioOptions, Response};
use ratatui_image::picker::{Picker, ProtocolType};

use crate::tui::ImageProtocolChoice;

/// How long the terminal has to answer the capability query. Terminals answer in a few
/// milliseconds; this only delays start-up when nothing answers at all.
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(800);

/// The picker, how it was chosen, and keys the query read that belong to the app.
pub struct PickerSetup {
    pub picker: Picker,
    pub how: String,
    pub typed_ahead: Vec<KeyEvent>,
}

pub fn choose_picker(choice: ImageProtocolChoice) -> PickerSetup {
    let forced = |protocol: ProtocolType| {
        // A pixel protocol needs the cell size; the ioctl usually knows it.
        #[allow(deprecated)] // `from_fontsize` is the only way to build a picker without a query.
        let mut p = Picker::from_fontsize(ioctl_font_size().unwrap_or(FontSize::new(10, 20)));
        p.set_protocol_type(protocol);
        p
    };
    let (mut picker, how, typed_ahead) = match choice {
        ImageProtocolChoice::Halfblocks => (Picker::halfblocks(), "forced".to_string(), Vec::new()),
        ImageProtocolChoice::Sixel => (forced(ProtocolType::Sixel), "forced".into(), Vec::new()),
        ImageProtocolChoice::Kitty => (forced(ProtocolType::Kitty), "forced".into(), Vec::new()),
        ImageProtocolChoice::Iterm2 => (forced(ProtocolType::Iterm2), "forced".into(), Vec::new()),
        ImageProtocolChoice::Auto => match query_skip_reason() {
            Some(reason) => (Picker::halfblocks(), reason.to_string(), Vec::new()),
            None => {
                let answer = query_terminal(QUERY_TIMEOUT);
                let how = if answer.answered {
                    "terminal answered"
                } else {
                    "no answer to the query"
                };
                let picker = match (
                    answer.protocol.or_else(iterm2_from_env),
                    answer.font_size.or_else(ioctl_font_size),
                ) {
                    (Some(p), Some(font)) => {
                        #[allow(deprecated)] // As above: building from what our own query found.
                        let mut picker = Picker::from_fontsize(font);
                        picker.set_protocol_type(p);
                        picker
                    }
                    _ => Picker::halfblocks(),
                };
                (picker, how.to_string(), answer.typed_ahead)
            }
        },
    };
    let [r, g, b] = crate::app::theme::TILE_BG_RGB;
    picker.set_background_color(Some(image::Rgba([r, g, b, 255])));
    PickerSetup {
        picker,
        how,
        typed_ahead,
    }
}

fn is_tmux() -> bool {
    std::env::var("TERM").is_ok_and(|t| t.starts_with("tmux"))
        || std::env::var("TERM_PROGRAM").is_ok_and(|t| t == "tmux")
}

/// Why not to query the terminal at all, if there is a reason.
fn query_skip_reason() -> Option<&'static str> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Some("not a terminal");
    }
    if std::env::var("TERM").map_or(true, |t| t.is_empty() || t == "dumb") {
        return Some("TERM is dumb");
    }
    if std::env::var_os("TMUX").is_some() {
        // A detached tmux session has no outer terminal to answer a passthrough query.
        let attached = std::process::Command::new("tmux")
            .args(["display-message", "-p", "#{session_attached}"])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        if attached.as_deref() == Some("0") {
            return Some("tmux session detached");
        }
    }
    None
}

fn iterm2_from_env() -> Option<ProtocolType> {
    let program = std::env::var("TERM_PROGRAM").unwrap_or_default();
    let known = [
        "iTerm",
        "WezTerm",
        "mintty",
        "vscode",
        "Tabby",
        "Hyper",
        "rio",
        "Bobcat",
        "WarpTerminal",
    ];
    (known.iter().any(|k| program.contains(k))
        || std::env::var("LC_TERMINAL").is_ok_and(|t| t.contains("iTerm")))
    .then_some(ProtocolType::Iterm2)
}

fn ioctl_font_size() -> Option<FontSize> {
    let ws = crossterm::terminal::window_size().ok()?;
    (ws.width > 0 && ws.height > 0 && ws.columns > 0 && ws.rows > 0)
        .then(|| FontSize::new(ws.width / ws.columns, ws.height / ws.rows))
}

#[derive(Default)]
struct QueryAnswer {
    answered: bool,
    protocol: Option<ProtocolType>,
    font_size: Option<FontSize>,
    typed_ahead: Vec<KeyEvent>,
}

/// Asks the terminal for its graphics support and cell size, reading the answer from a
/// *non-blocking* handle of our own. ratatui-image's `from_query_stdio` reads stdin from a
/// thread that stays blocked after a timeout and then eats the user's first key press;
/// here nothing is left reading once we return, and keys typed during the query are kept.
fn query_terminal(timeout: Duration) -> QueryAnswer {
    let mut answer = QueryAnswer::default();
    let Ok(mut tty) = nonblocking_tty() else {
        return answer;
    };
    let tmux = is_tmux();
    if tmux {
        // Passthrough carries the query to the outer terminal (tmux ≥ 3.3 has it off by
        // default). If this fails the query simply goes unanswered and half-blocks are used.
        let _ = std::process::Command::new("tmux")
            .args(["set", "-p", "allow-passthrough", "on"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    let mut options = QueryStdioOptions {
        timeout,
        ..QueryStdioOptions::default()
    };
    if std::env::var_os("WEZTERM_EXECUTABLE").is_some()
        || std::env::var_os("KONSOLE_VERSION").is_some()
    {
        // As ratatui-image does: their kitty/sixel support does not work with it.
        options.blacklist_protocols = vec![ProtocolType::Kitty, ProtocolType::Sixel];
    }
    let blacklist = options.blacklist_protocols.clone();
    let query = Parser::query(tmux, options);
    let mut out = std::io::stdout();
    if out
        .write_all(query.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return answer;
    }
    let deadline = Instant::now() + timeout;
    let mut parser = Parser::new();
    let mut scanner = Scanner::default();
    let mut typed = Vec::new();
    let mut buf = [0u8; 256];
    'read: while Instant::now() < deadline {
        match tty.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                for (i, &byte) in buf[..n].iter().enumerate() {
                    if !scanner.in_sequence(byte) {
                        typed.push(byte);
                        continue;
                    }
                    for response in parser.push(char::from(byte)) {
                        if note(&mut answer, response, &blacklist) {
                            // Bytes after the status report are the user's (or late answers).
                            typed.extend(
                                buf[i + 1..n]
                                    .iter()
                                    .copied()
                                    .filter(|&b| !scanner.in_sequence(b)),
                            );
                            break 'read;
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2))
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    answer.typed_ahead = typed_keys(&typed);
    answer
}

/// Records one response; `true` for the status report that ends the answer.
fn note(answer: &mut QueryAnswer, response: Response, blacklist: &[ProtocolType]) -> bool {
    match response {
        Response::Status => {
            answer.answered = true;
            return true;
        }
        Response::Kitty if !blacklist.contains(&ProtocolType::Kitty) => {
            answer.protocol = Some(ProtocolType::Kitty)
        }
        Response::Sixel
            if answer.protocol.is_none() && !blacklist.contains(&ProtocolType::Sixel) =>
        {
            answer.protocol = Some(ProtocolType::Sixel);
        }
        Response::CellSize(Some((w, h))) => answer.font_size = Some(FontSize::new(w, h)),
        _ => {}
    }
    false
}

/// `/dev/tty` opened anew (its own open file description, so crossterm's handle stays
/// blocking) and switched to non-blocking. std has no `fcntl`; `UnixStream::set_nonblocking`
/// issues `FIONBIO`, which works on any descriptor, and the flag stays when converted back.
fn nonblocking_tty() -> std::io::Result<std::fs::File> {
    use std::os::fd::OwnedFd;
    let tty = std::fs::File::options().read(true).open("/dev/tty")?;
    let stream = std::os::unix::net::UnixStream::from(OwnedFd::from(tty));
    stream.set_nonblocking(true)?;
    Ok(std::fs::File::from(OwnedFd::from(stream)))
}

/// Tells escape sequences (terminal answers) from bytes the user typed.
#[derive(Default)]
struct Scanner {
    state: ScanState,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum ScanState {
    #[default]
    Ground,
    Escape,
    Csi,
    Str,
    StrEscape,
}

impl Scanner {
    /// Whether `byte` belongs to an escape sequence.
    fn in_sequence(&mut self, byte: u8) -> bool {
        use ScanState::*;
        let (next, in_seq) = match (self.state, byte) {
            (Ground, 0x1b) => (Escape, true),
            (Ground, _) => (Ground, false),
            (Escape, b'[') => (Csi, true),
            (Escape, b']' | b'_' | b'P') => (Str, true),
            (Escape, _) => (Ground, true),
            (Csi, 0x40..=0x7e) => (Ground, true),
            (Csi, _) => (Csi, true),
            (Str, 0x07) => (Ground, true),
            (Str, 0x1b) => (StrEscape, true),
            (Str, _) => (Str, true),
            (StrEscape, b'\\') => (Ground, true),
            (StrEscape, _) => (Str, true),
        };
        self.state = next;
        in_seq
    }
}

/// Keys from raw bytes typed during the query (plain keys only; arrows etc. are dropped).
fn typed_keys(bytes: &[u8]) -> Vec<KeyEvent> {
    String::from_utf8_lossy(bytes)
        .chars()
        .filter_map(|c| {
            let (code, mods) = match c {
                '\r' | '\n' => (KeyCode::Enter, KeyModifiers::NONE),
                '\t' => (KeyCode::Tab, KeyModifiers::NONE),
                '\u{7f}' | '\u{8}' => (KeyCode::Backspace, KeyModifiers::NONE),
                '\u{3}' => (KeyCode::Char('c'), KeyModifiers::CONTROL),
                c if !c.is_control() => (KeyCode::Char(c), KeyModifiers::NONE),
                _ => return None,
            };
            Some(KeyEvent::new(code, mods))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanner_separates_answers_from_typing() {
        let input = b"1\x1b[?62;4c0\x1b_Gi=31;OK\x1b\\q\x1b[0n";
        let mut s = Scanner::default();
        let typed: Vec<u8> = input
            .iter()
            .copied()
            .filter(|b| !s.in_sequence(*b))
            .collect();
        assert_eq!(typed, b"10q");
    }

    #[test]
    fn typed_bytes_become_keys() {
        let keys = typed_keys(b"1\r\x7fa\x03");
        let codes: Vec<KeyCode> = keys.iter().map(|k| k.code).collect();
        assert_eq!(
            codes,
            vec![
                KeyCode::Char('1'),
                KeyCode::Enter,
                KeyCode::Backspace,
                KeyCode::Char('a'),
                KeyCode::Char('c')
            ]
        );
        assert_eq!(keys[4].modifiers, KeyModifiers::CONTROL);
    }
}
