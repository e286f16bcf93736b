//! Asking the terminal questions: escape-sequence queries written to `/dev/tty`, answers read
//! back from a non-blocking handle of our own within a bounded wait, and told apart from the
//! keys the user typed meanwhile (which become key events for the app, in order, so no key
//! press is lost). Nothing is left reading once a question returns.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Device attributes (DA1): every terminal answers it, so it ends each question.
pub const DA1: &str = "\x1b[c";
/// Time allowed after the DA1 answer for answers that arrive behind it (passthrough).
const STRAGGLERS: Duration = Duration::from_millis(20);

/// One answer the terminal sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `CSI ? Ps ; … c`: device attributes; 4 in the list means sixel.
    Da1(Vec<u32>),
    /// `CSI > Ps ; … c`: secondary attributes; the first number names the terminal type
    /// (84 'T' tmux, 83 'S' screen, 1 kitty/VT220, 19 VT340, 41 VT420, …).
    Da2(Vec<u32>),
    /// `DCS > | text ST`: XTVERSION, the terminal's name and version.
    XtVersion(String),
    /// `DCS 1 $ r … ST` / `DCS 0 $ r ST`: a DECRQSS report (here: of the current SGR).
    Decrqss { valid: bool, text: String },
    /// `APC G … ST`: a kitty graphics answer, e.g. `i=31;OK`.
    KittyGraphics(String),
    /// `CSI Ps ; Ps ; Ps t`: a window report (6 = cell size, 4 = window size, in pixels).
    Window(u32, u32, u32),
    /// Any other report (status, colours, capabilities), kept for `doctor`.
    Other(String),
}

/// What came back for one question.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub answers: Vec<Answer>,
    /// Bytes that were not an answer: keys typed while we waited.
    pub typed: Vec<u8>,
    /// Whether the DA1 answer that ends the question arrived in time.
    pub finished: bool,
    pub elapsed: Duration,
}

impl Exchange {
    pub fn da1(&self) -> Option<&[u32]> {
        self.answers.iter().find_map(|a| match a {
            Answer::Da1(p) => Some(p.as_slice()),
            _ => None,
        })
    }

    pub fn da2(&self) -> Option<&[u32]> {
        self.answers.iter().find_map(|a| match a {
            Answer::Da2(p) => Some(p.as_slice()),
            _ => None,
        })
    }

    pub fn xtversion(&self) -> Option<&str> {
        self.answers.iter().find_map(|a| match a {
            Answer::XtVersion(v) => Some(v.as_str()),
            _ => None,
        })
    }

    pub fn kitty_ok(&self) -> bool {
        self.answers
            .iter()
            .any(|a| matches!(a, Answer::KittyGraphics(t) if t.ends_with(";OK")))
    }

    /// The cell size from `CSI 6 ; height ; width t`, if reported and plausible.
    pub fn cell_size(&self) -> Option<(u16, u16)> {
        self.answers.iter().find_map(|a| match a {
            Answer::Window(6, h, w) if (1..=500).contains(h) && (1..=500).contains(w) => {
                Some((u16::try_from(*w).ok()?, u16::try_from(*h).ok()?))
            }
            _ => None,
        })
    }

    /// Whether a DECRQSS report shows the 24-bit colour we set (`38;2` or `38:2`).
    pub fn kept_rgb_colour(&self) -> bool {
        self.answers.iter().any(|a| {
            matches!(a, Answer::Decrqss { valid: true, text } if text.contains("38:2") || text.contains("38;2"))
        })
    }
}

/// The controlling terminal, opened anew for reading answers.
pub struct Tty {
    input: std::fs::File,
    /// Raw mode switched on here (for `doctor`), to switch off again.
    raw_here: bool,
}

impl Tty {
    /// Opens `/dev/tty` (its own open file description, so crossterm's stays blocking),
    /// non-blocking, and puts the terminal in raw mode if it is not already.
    pub fn open() -> std::io::Result<Tty> {
        use std::os::fd::OwnedFd;
        let tty = std::fs::File::options()
            .read(true)
            .write(true)
            .open("/dev/tty")?;
        // std has no fcntl; `set_nonblocking` on a socket wrapper issues FIONBIO, which
        // works on any descriptor, and the flag stays when converted back.
        let stream = std::os::unix::net::UnixStream::from(OwnedFd::from(tty));
        stream.set_nonblocking(true)?;
        let input = std::fs::File::from(OwnedFd::from(stream));
        let raw_here = !crossterm::terminal::is_raw_mode_enabled()?;
        if raw_here {
            crossterm::terminal::enable_raw_mode()?;
        }
        Ok(Tty { input, raw_here })
    }

    /// Writes `query` (which must end with DA1, see `DA1`) and reads until the DA1 answer
    /// and a short grace period, or until `timeout`.
    pub fn ask(&mut self, query: &str, timeout: Duration) -> Exchange {
        let started = Instant::now();
        let mut bytes = Vec::new();
        if self
            .input
            .write_all(query.as_bytes())
            .and_then(|()| self.input.flush())
            .is_err()
        {
            return Exchange::default();
        }
        let mut deadline = started + timeout;
        let mut finished = false;
        let mut buf = [0u8; 1024];
        while Instant::now() < deadline {
            match self.input.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    bytes.extend_from_slice(&buf[..n]);
                    if !finished && split(&bytes).0.iter().any(|a| matches!(a, Answer::Da1(_))) {
                        finished = true;
                        deadline = Instant::now() + STRAGGLERS;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let (answers, typed) = split(&bytes);
        Exchange {
            answers,
            typed,
            finished,
            elapsed: started.elapsed(),
        }
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        if self.raw_here {
            // Best effort: the terminal was in cooked mode before `open`.
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// `seq` wrapped in tmux's passthrough, for the terminal outside tmux.
pub fn tmux_wrap(seq: &str) -> String {
    crate::graphics::wrap_for_tmux(seq, true)
}

/// Splits what the terminal sent into answers and typed bytes. Answers have a grammar of
/// their own (DA, window reports, DCS/APC/OSC strings); everything else (letters, arrows,
/// function keys) is the user's. An unfinished answer at the end is dropped; a lone ESC
/// at the end is the Esc key.
pub fn split(bytes: &[u8]) -> (Vec<Answer>, Vec<u8>) {
    let mut answers = Vec::new();
    let mut typed = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != 0x1b || i + 1 >= bytes.len() {
            typed.push(bytes[i]);
            i += 1;
            continue;
        }
        match bytes[i + 1] {
            b'[' => {
                // CSI: parameters 0x30–0x3f, intermediates 0x20–0x2f, final 0x40–0x7e.
                let Some(end) = bytes[i + 2..]
                    .iter()
                    .position(|b| (0x40..=0x7e).contains(b))
                    .map(|p| i + 2 + p)
                else {
                    break; // unfinished
                };
                let body = &bytes[i + 2..end];
                match csi_answer(body, bytes[end]) {
                    Some(a) => answers.push(a),
                    None => typed.extend_from_slice(&bytes[i..=end]),
                }
                i = end + 1;
            }
            kind @ (b'P' | b'_' | b']') => {
                // String: ends with ST (ESC \), or BEL for OSC.
                let start = i + 2;
                let mut j = start;
                let mut end = None;
                while j < bytes.len() {
                    if bytes[j] == 0x1b && bytes.get(j + 1) == Some(&b'\\') {
                        end = Some((j, j + 2));
                        break;
                    }
                    if kind == b']' && bytes[j] == 0x07 {
                        end = Some((j, j + 1));
                        break;
                    }
                    j += 1;
                }
                let Some((body_end, next)) = end else {
                    break; // unfinished
                };
                answers.push(string_answer(kind, &bytes[start..body_end]));
                i = next;
            }
            _ => {
                // ESC O x (SS3 keys), Alt+key, or a lone Esc: the user's.
                typed.push(bytes[i]);
                i += 1;
            }
        }
    }
    (answers, typed)
}

fn numbers(s: &str) -> Vec<u32> {
    s.split(';')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn csi_answer(body: &[u8], last: u8) -> Option<Answer> {
    let text = std::str::from_utf8(body).ok()?;
    match (last, text.as_bytes().first()) {
        (b'c', Some(b'?')) => Some(Answer::Da1(numbers(&text[1..]))),
        (b'c', Some(b'>')) => Some(Answer::Da2(numbers(&text[1..]))),
        (b't', _) => match numbers(text).as_slice() {
            [a, b, c] => Some(Answer::Window(*a, *b, *c)),
            _ => None,
        },
        // Device status reports (`CSI 0 n`): nobody types those.
        (b'n', _) if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() => {
            Some(Answer::Other(format!("CSI {text} n")))
        }
        _ => None,
    }
}

fn string_answer(kind: u8, body: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(body).into_owned();
    match kind {
        b'P' => {
            if let Some(v) = text.strip_prefix(">|") {
                Answer::XtVersion(v.to_string())
            } else if let Some(rest) = text.strip_prefix("1$r") {
                Answer::Decrqss {
                    valid: true,
                    text: rest.to_string(),
                }
            } else if let Some(rest) = text.strip_prefix("0$r") {
                Answer::Decrqss {
                    valid: false,
                    text: rest.to_string(),
                }
            } else {
                Answer::Other(format!("DCS {text}"))
            }
        }
        b'_' => match text.strip_prefix('G') {
            Some(rest) => Answer::KittyGraphics(rest.to_string()),
            None => Answer::Other(format!("APC {text}")),
        },
        _ => Answer::Other(format!("OSC {text}")),
    }
}

/// Key events from bytes typed while a question was out: printable characters, Enter,
/// Tab, Backspace, Ctrl-letters, Esc, Alt-letters, arrows, Home/End, PgUp/PgDn, Insert,
/// Delete, Shift-Tab and F1–F12 (with modifiers). Unknown sequences are dropped.
pub fn keys(bytes: &[u8]) -> Vec<KeyEvent> {
    let text = String::from_utf8_lossy(bytes);
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '\x1b' {
            if let Some(k) = plain_key(c) {
                out.push(k);
            }
            continue;
        }
        match chars.get(i) {
            None => out.push(KeyEvent::from(KeyCode::Esc)),
            Some('[') => {
                let start = i + 1;
                let Some(end) =
                    (start..chars.len()).find(|&j| ('\x40'..='\x7e').contains(&chars[j]))
                else {
                    break;
                };
                let params: String = chars[start..end].iter().collect();
                if let Some(k) = csi_key(&params, chars[end]) {
                    out.push(k);
                }
                i = end + 1;
            }
            Some('O') if i + 1 < chars.len() => {
                if let Some(k) = csi_key("", chars[i + 1]) {
                    out.push(k);
                }
                i += 2;
            }
            Some(&next) => {
                // Alt+key: ESC then the key.
                i += 1;
                if next == '\x1b' {
                    out.push(KeyEvent::from(KeyCode::Esc));
                    i -= 1;
                } else if let Some(mut k) = plain_key(next) {
                    k.modifiers |= KeyModifiers::ALT;
                    out.push(k);
                }
            }
        }
    }
    out
}

fn plain_key(c: char) -> Option<KeyEvent> {
    let (code, mods) = match c {
        '\r' | '\n' => (KeyCode::Enter, KeyModifiers::NONE),
        '\t' => (KeyCode::Tab, KeyModifiers::NONE),
        '\u{7f}' | '\u{8}' => (KeyCode::Backspace, KeyModifiers::NONE),
        '\u{1}'..='\u{1a}' => (
            KeyCode::Char(char::from(b'a' + (c as u8) - 1)),
            KeyModifiers::CONTROL,
        ),
        c if !c.is_control() => (KeyCode::Char(c), KeyModifiers::NONE),
        _ => return None,
    };
    Some(KeyEvent::new(code, mods))
}

fn csi_key(params: &str, last: char) -> Option<KeyEvent> {
    let mut parts = params.split(';');
    let first: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(1);
    let modifier: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(1);
    let code = match last {
        'A' => KeyCode::Up,
        'B' => KeyCode::Down,
        'C' => KeyCode::Right,
        'D' => KeyCode::Left,
        'H' => KeyCode::Home,
        'F' => KeyCode::End,
        'P' => KeyCode::F(1),
        'Q' => KeyCode::F(2),
        'R' => KeyCode::F(3),
        'S' => KeyCode::F(4),
        'Z' => return Some(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
        '~' => match first {
            1 | 7 => KeyCode::Home,
            2 => KeyCode::Insert,
            3 => KeyCode::Delete,
            4 | 8 => KeyCode::End,
            5 => KeyCode::PageUp,
            6 => KeyCode::PageDown,
            11..=15 => KeyCode::F((first - 10) as u8),
            17..=21 => KeyCode::F((first - 11) as u8),
            23 | 24 => KeyCode::F((first - 12) as u8),
            _ => return None,
        },
        _ => return None,
    };
    let bits = modifier.saturating_sub(1);
    let mut mods = KeyModifiers::NONE;
    if bits & 1 != 0 {
        mods |= KeyModifiers::SHIFT;
    }
    if bits & 2 != 0 {
        mods |= KeyModifiers::ALT;
    }
    if bits & 4 != 0 {
        mods |= KeyModifiers::CONTROL;
    }
    Some(KeyEvent::new(code, mods))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_recorded_in_real_terminals_are_recognised() {
        // kitty 0.26.5 (one write of every query, answers as they came back).
        let kitty = b"\x1bP>|kitty(0.26.5)\x1b\\\x1b[>1;4000;26c\x1b_Gi=31;OK\x1b\\\x1b[6;20;9t\x1bP1$r38:2:1:2:3m\x1b\\\x1b[?62;c";
        let (answers, typed) = split(kitty);
        assert!(typed.is_empty());
        let x = Exchange {
            answers,
            ..Default::default()
        };
        assert_eq!(x.xtversion(), Some("kitty(0.26.5)"));
        assert_eq!(x.da2(), Some(&[1, 4000, 26][..]));
        assert_eq!(x.da1(), Some(&[62][..]));
        assert!(x.kitty_ok());
        assert_eq!(x.cell_size(), Some((9, 20)));
        assert!(x.kept_rgb_colour());
        // tmux 3.3a answering for itself.
        let (answers, _) = split(b"\x1bP>|tmux 3.3a\x1b\\\x1b[>84;0;0c\x1b[?1;2c");
        let x = Exchange {
            answers,
            ..Default::default()
        };
        assert_eq!(x.xtversion(), Some("tmux 3.3a"));
        assert_eq!(x.da1(), Some(&[1, 2][..]));
        assert!(!x.kitty_ok() && !x.kept_rgb_colour() && x.cell_size().is_none());
    }

    #[test]
    fn keys_typed_during_the_query_are_kept_in_order() {
        // Typed before and between answers, as probed in xterm, kitty, tmux and screen.
        let input = b"ab\x1b[A\x1bP>|XTerm(379)\x1b\\1\r\x1b[?63;1;2;4c0\x1b[3~\x1bOP\x1b";
        let (answers, typed) = split(input);
        assert_eq!(answers.len(), 2);
        assert_eq!(typed, b"ab\x1b[A1\r0\x1b[3~\x1bOP\x1b");
        let codes: Vec<(KeyCode, KeyModifiers)> =
            keys(&typed).iter().map(|k| (k.code, k.modifiers)).collect();
        use KeyCode::*;
        let none = KeyModifiers::NONE;
        assert_eq!(
            codes,
            vec![
                (Char('a'), none),
                (Char('b'), none),
                (Up, none),
                (Char('1'), none),
                (Enter, none),
                (Char('0'), none),
                (Delete, none),
                (F(1), none),
                (Esc, none),
            ]
        );
    }

    #[test]
    fn modified_and_control_keys() {
        let k = keys(b"\x1b[1;5C\x1b[Z\x03\x1bx\x7f\t\x1b[15~\x1b[6~");
        let got: Vec<(KeyCode, KeyModifiers)> = k.iter().map(|k| (k.code, k.modifiers)).collect();
        assert_eq!(
            got,
            vec![
                (KeyCode::Right, KeyModifiers::CONTROL),
                (KeyCode::BackTab, KeyModifiers::SHIFT),
                (KeyCode::Char('c'), KeyModifiers::CONTROL),
                (KeyCode::Char('x'), KeyModifiers::ALT),
                (KeyCode::Backspace, KeyModifiers::NONE),
                (KeyCode::Tab, KeyModifiers::NONE),
                (KeyCode::F(5), KeyModifiers::NONE),
                (KeyCode::PageDown, KeyModifiers::NONE),
            ]
        );
    }

    #[test]
    fn unfinished_answers_are_dropped_not_typed() {
        let (answers, typed) = split(b"q\x1bP>|kitty(0.2");
        assert!(answers.is_empty());
        assert_eq!(typed, b"q");
        let (_, typed) = split(b"z\x1b[?62;");
        assert_eq!(typed, b"z");
    }

    #[test]
    fn any_bytes_split_without_panicking() {
        let mut seed = 7u32;
        for _ in 0..2000 {
            let len = (seed % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    [
                        0x1b, b'[', b'?', b';', b'c', b'P', b'\\', b'1', b'~', b'O', b'a', 0xff,
                    ][(seed >> 16) as usize % 12]
                })
                .collect();
            let (_, typed) = split(&bytes);
            let _ = keys(&typed);
        }
    }
}
