//! Choosing how pictures are drawn on this terminal, so that nothing shows garbage: what the
//! terminal says it is (XTVERSION, DA1, DA2) and can do (the kitty query, a 24-bit colour
//! test), what tmux or GNU screen in between can pass on, and what `--image-protocol` /
//! `--colors` force. Every decision records why, and what it ruled out, for `doctor`.
//!
//! The questions come in two rounds. Round 1 is CSI only and safe everywhere. Round 2 (the
//! kitty query, DECRQSS) goes only to a terminal that is not a multiplexer: GNU screen
//! prints DCS contents as text and tmux 3.3a turns a bare kitty query into the pane title.
//! In tmux, the terminal outside is asked through passthrough, and only when it could
//! show kitty placeholders (the one kind of picture tmux keeps in the right place).

use std::time::Duration;

use crossterm::event::KeyEvent;

use crate::config::{ColorsChoice, ImageProtocolChoice};
use crate::graphics::{CellSize, ColourDepth, GraphicsProtocol, Renderer};
use crate::tui::terminal_query::{DA1, Exchange, Tty, tmux_wrap};
use crate::tui::tmux::PassthroughGuard;

/// How long the terminal has to answer one round. Terminals answer in a few milliseconds
/// (a tmux passthrough round trip in under 10); this only delays start-up when nothing
/// answers at all, and keys typed meanwhile are kept.
pub const QUERY_TIMEOUT: Duration = Duration::from_millis(1000);
/// Over SSH the round trip includes the network.
pub const QUERY_TIMEOUT_SSH: Duration = Duration::from_millis(2500);

/// Round 1: XTVERSION, DA2, the cell size in pixels, DA1.
pub const ROUND1: &str = "\x1b[>q\x1b[>c\x1b[16t\x1b[c";
const KITTY_QUERY: &str = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\";
/// Round 2: the kitty graphics query, then set a 24-bit colour and ask which SGR is now in
/// force (DECRQSS): a terminal that keeps `38;2` / `38:2` shows 24-bit colour.
pub const ROUND2: &str =
    "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[38;2;1;2;3m\x1bP$qm\x1b\\\x1b[0m\x1b[c";

/// What detection reads from the environment (as hints, never as proof of graphics).
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub is_tty: bool,
    pub term: String,
    pub colorterm: String,
    /// `$TMUX` is set.
    pub in_tmux: bool,
    pub tmux_pane: Option<String>,
    /// `$STY`: GNU screen's session name.
    pub sty: Option<String>,
    pub ssh: bool,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            // The questions go to the controlling terminal, whatever stdout is (`doctor | less`).
            is_tty: std::fs::File::options()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .is_ok(),
            term: var("TERM").unwrap_or_default(),
            colorterm: var("COLORTERM").unwrap_or_default(),
            in_tmux: var("TMUX").is_some(),
            tmux_pane: var("TMUX_PANE"),
            sty: var("STY"),
            ssh: ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"]
                .iter()
                .any(|k| var(k).is_some()),
        }
    }
}

/// The I/O detection needs; `RealProbe` in `tui`, recorded answers in tests.
pub trait Probe {
    /// Writes `query` (ending with DA1) and collects the answers.
    fn ask(&mut self, query: &str, timeout: Duration) -> Exchange;
    /// Runs a tmux command against the server around us.
    fn tmux(&mut self, args: &[&str]) -> Option<String>;
    /// `tput colors` for `$TERM`.
    fn tput_colors(&mut self) -> Option<u32>;
    /// Whether terminfo for `$TERM` declares 24-bit colour (`Tc`, `RGB` or `setrgbf`).
    fn terminfo_truecolor(&mut self) -> bool;
    /// Cell size from the window size in pixels (TIOCGWINSZ), when the terminal fills it in.
    fn ioctl_cell(&mut self) -> Option<CellSize>;
    /// Switches tmux's `allow-passthrough` on for `pane`, to be restored later.
    fn enable_passthrough(&mut self, pane: &str) -> Result<(), String>;
    /// Puts `allow-passthrough` back at once (it turned out not to be needed).
    fn disable_passthrough(&mut self);
}

/// A terminal's name and version from XTVERSION: `kitty(0.26.5)`, `XTerm(379)`, `tmux 3.3a`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermId {
    pub name: String,
    pub version: String,
}

impl TermId {
    pub fn parse(s: &str) -> TermId {
        let s = s.trim();
        if let Some((name, rest)) = s.split_once('(') {
            return TermId {
                name: name.trim().to_string(),
                version: rest.trim_end_matches(')').trim().to_string(),
            };
        }
        match s.split_once(' ') {
            Some((name, version)) => TermId {
                name: name.to_string(),
                version: version.trim().to_string(),
            },
            None => TermId {
                name: s.to_string(),
                version: String::new(),
            },
        }
    }

    /// The leading numbers of the version: `0.26.5` → [0, 26, 5], `3.3a` → [3, 3].
    pub fn numbers(&self) -> Vec<u32> {
        self.version
            .split('.')
            .map_while(|part| {
                let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .collect()
    }

    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// Whether it draws kitty's unicode placeholders: kitty 0.28 added them (0.29.0 broke
    /// them, 0.29.1 fixed it); ghostty has them.
    pub fn has_kitty_placeholders(&self) -> bool {
        if self.is("ghostty") {
            return true;
        }
        let v = self.numbers();
        self.is("kitty") && v.as_slice() >= [0, 28].as_slice() && v.as_slice() != [0, 29, 0]
    }

    /// Terminals known to draw iTerm2 inline images.
    pub fn has_iterm2_images(&self) -> bool {
        ["iTerm2", "WezTerm", "mintty"].iter().any(|n| self.is(n))
    }
}

impl std::fmt::Display for TermId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.version.is_empty() {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{} {}", self.name, self.version)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Multiplexer {
    #[default]
    None,
    Tmux {
        version: String,
        /// The terminal outside tmux, as tmux knows it (`#{client_termtype}`).
        outer: Option<String>,
        attached: Option<bool>,
    },
    Screen {
        version: Option<String>,
    },
}

/// What was detected and why: printed by `doctor`, summarised in the `?` overlay.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The terminal's XTVERSION answer (for tmux: tmux itself).
    pub terminal: Option<String>,
    pub multiplexer: Multiplexer,
    pub ssh: bool,
    /// How long the first round took, or `None` if nothing answered.
    pub answered_in: Option<Duration>,
    pub waited: Duration,
    pub protocol_why: String,
    pub depth_why: String,
    pub cell_why: String,
    pub ruled_out: Vec<String>,
    /// Every answer received, escaped for printing.
    pub answers: Vec<String>,
    pub passthrough: String,
}

/// The outcome: how to draw, why, and the bytes typed while the questions were out.
#[derive(Debug, Clone)]
pub struct Choice {
    pub renderer: Renderer,
    pub report: Report,
    pub typed: Vec<u8>,
}

impl Choice {
    /// One line for the `?` overlay, e.g. "sixel · 24-bit · cell 6×13 px".
    pub fn summary(&self) -> String {
        let r = &self.renderer;
        let mut s = format!("{} · {}", r.protocol.name(), r.depth.name());
        if r.protocol != GraphicsProtocol::Halfblocks {
            s.push_str(&format!(" · cell {}×{} px", r.cell.width, r.cell.height));
        }
        if r.tmux_passthrough {
            s.push_str(" · through tmux");
        }
        s
    }
}

struct Detector<'a, P: Probe> {
    probe: &'a mut P,
    env: &'a Env,
    forced: ImageProtocolChoice,
    colours: Option<ColorsChoice>,
    report: Report,
    typed: Vec<u8>,
}

/// Chooses the renderer for this terminal. `background` is the tile colour pictures are
/// padded with.
pub fn choose<P: Probe>(
    probe: &mut P,
    env: &Env,
    forced: ImageProtocolChoice,
    colours: Option<ColorsChoice>,
    background: [u8; 3],
) -> Choice {
    let mut d = Detector {
        probe,
        env,
        forced,
        colours,
        report: Report {
            ssh: env.ssh,
            passthrough: "not touched".into(),
            ..Report::default()
        },
        typed: Vec::new(),
    };
    let (protocol, depth, cell, wrap) = d.run();
    let cell = cell.unwrap_or(CellSize::ASSUMED);
    Choice {
        renderer: Renderer {
            protocol,
            depth,
            cell,
            tmux_passthrough: wrap,
            background,
        },
        report: d.report,
        typed: d.typed,
    }
}

type Decision = (GraphicsProtocol, ColourDepth, Option<CellSize>, bool);

impl<P: Probe> Detector<'_, P> {
    fn ask(&mut self, query: &str) -> Exchange {
        let timeout = if self.env.ssh {
            QUERY_TIMEOUT_SSH
        } else {
            QUERY_TIMEOUT
        };
        self.report.waited += timeout.min(Duration::from_secs(60));
        let x = self.probe.ask(query, timeout);
        self.typed.extend_from_slice(&x.typed);
        self.report
            .answers
            .extend(x.answers.iter().map(|a| format!("{a:?}")));
        x
    }

    fn rule_out(&mut self, what: impl Into<String>) {
        self.report.ruled_out.push(what.into());
    }

    fn forced_protocol(&self) -> Option<GraphicsProtocol> {
        match self.forced {
            ImageProtocolChoice::Auto => None,
            ImageProtocolChoice::Halfblocks => Some(GraphicsProtocol::Halfblocks),
            ImageProtocolChoice::Sixel => Some(GraphicsProtocol::Sixel),
            ImageProtocolChoice::Kitty => Some(GraphicsProtocol::KittyPlaceholders),
            ImageProtocolChoice::Iterm2 => Some(GraphicsProtocol::Iterm2),
        }
    }

    fn forced_depth(&mut self) -> Option<ColourDepth> {
        let d = ColourDepth::from(self.colours?);
        self.report.depth_why = "forced (--colors or the colors config key)".into();
        Some(d)
    }

    fn run(&mut self) -> Decision {
        if !self.env.is_tty || self.env.term.is_empty() || self.env.term == "dumb" {
            let why = if self.env.is_tty {
                "TERM is empty or dumb"
            } else {
                "not a terminal"
            };
            return self.without_answers(why);
        }
        let r1 = self.ask(ROUND1);
        if !r1.finished {
            let why = format!(
                "no answer to the terminal query within {} ms",
                self.report.waited.as_millis()
            );
            return self.without_answers(&why);
        }
        self.report.answered_in = Some(r1.elapsed);
        let id = r1.xtversion().map(TermId::parse);
        self.report.terminal = id.as_ref().map(ToString::to_string);
        let cell = match r1.cell_size() {
            Some((w, h)) => {
                self.report.cell_why = "reported by the terminal (CSI 16 t)".into();
                Some(CellSize {
                    width: w,
                    height: h,
                })
            }
            None => self.ioctl_cell(),
        };
        let da2_kind = r1.da2().and_then(|p| p.first().copied());
        if id.as_ref().is_some_and(|i| i.is("tmux")) || da2_kind == Some(84) {
            let version = id.map(|i| i.version).unwrap_or_default();
            return self.in_tmux(&r1, version, cell);
        }
        if da2_kind == Some(83) || (id.is_none() && self.env.sty.is_some()) {
            let version = r1
                .da2()
                .and_then(|p| p.get(1).copied())
                .map(|v| format!("{}.{:02}.{:02}", v / 10000, v / 100 % 100, v % 100));
            return self.in_screen(version, cell);
        }
        self.real_terminal(&r1, id, cell)
    }

    fn ioctl_cell(&mut self) -> Option<CellSize> {
        let cell = self.probe.ioctl_cell();
        self.report.cell_why = match cell {
            Some(_) => "from the window size in pixels (TIOCGWINSZ)".into(),
            None => "unknown: the terminal reports no size in pixels".into(),
        };
        cell
    }

    /// Nothing answered (or nothing to ask): half-blocks, unless forced.
    fn without_answers(&mut self, why: &str) -> Decision {
        let cell = self.ioctl_cell();
        let depth = match self.forced_depth() {
            Some(d) => d,
            None => self.depth_from_terminfo(self.env.sty.is_some(), false),
        };
        if let Some(p) = self.forced_protocol() {
            self.report.protocol_why = format!("forced (--image-protocol); {why}");
            let wrap = self.env.in_tmux
                && p != GraphicsProtocol::Halfblocks
                && self.passthrough_for_forced();
            return (p, depth, cell, wrap);
        }
        self.report.protocol_why = why.to_string();
        self.rule_out("sixel, kitty, iTerm2: nothing proved the terminal can show them");
        (GraphicsProtocol::Halfblocks, depth, cell, false)
    }

    /// Colour depth from COLORTERM, the DECRQSS test (`kept_rgb`: the terminal kept a 24-bit
    /// colour it was given) and terminfo. `in_screen`: never 24-bit.
    fn depth_from_terminfo(&mut self, in_screen: bool, kept_rgb: bool) -> ColourDepth {
        let ct = self.env.colorterm.to_ascii_lowercase();
        if !in_screen && (ct == "truecolor" || ct == "24bit") {
            self.report.depth_why = format!("COLORTERM={}", self.env.colorterm);
            return ColourDepth::TrueColor;
        }
        if !in_screen && kept_rgb {
            self.report.depth_why =
                "the terminal kept a 24-bit colour (its DECRQSS answer shows 38:2)".into();
            return ColourDepth::TrueColor;
        }
        if !in_screen && self.probe.terminfo_truecolor() {
            self.report.depth_why =
                format!("terminfo for TERM={} declares 24-bit colour", self.env.term);
            return ColourDepth::TrueColor;
        }
        match self.probe.tput_colors() {
            Some(n) if n >= 256 => {
                self.report.depth_why =
                    format!("terminfo for TERM={} has {n} colours", self.env.term);
                ColourDepth::Palette256
            }
            n => {
                self.report.depth_why = format!(
                    "terminfo for TERM={} has {} colours",
                    self.env.term,
                    n.map_or("no".to_string(), |n| n.to_string())
                );
                ColourDepth::Basic16
            }
        }
    }

    /// A forced pixel protocol inside tmux goes through passthrough unless tmux draws it.
    fn passthrough_for_forced(&mut self) -> bool {
        let Some(pane) = self.env.tmux_pane.clone() else {
            self.report.passthrough =
                "TMUX_PANE is not set: cannot tell which pane to change".into();
            return false;
        };
        match self.probe.enable_passthrough(&pane) {
            Ok(()) => {
                self.report.passthrough =
                    format!("allow-passthrough on for pane {pane} (put back at exit)");
                true
            }
            Err(e) => {
                self.report.passthrough = e;
                false
            }
        }
    }

    fn in_screen(&mut self, version: Option<String>, cell: Option<CellSize>) -> Decision {
        self.report.multiplexer = Multiplexer::Screen { version };
        let depth = match self.forced_depth() {
            Some(d) => d,
            None => self.depth_from_terminfo(true, false),
        };
        self.rule_out("24-bit colour: GNU screen 4 shows 38;2 colours as the wrong colours");
        if let Some(p) = self.forced_protocol() {
            self.report.protocol_why = "forced (--image-protocol)".into();
            return (p, depth, cell, false);
        }
        self.rule_out(
            "sixel, kitty, iTerm2: GNU screen has no passthrough and prints graphics as text (so no kitty or DCS query was sent)",
        );
        self.report.protocol_why = "inside GNU screen".into();
        (GraphicsProtocol::Halfblocks, depth, cell, false)
    }

    fn in_tmux(&mut self, r1: &Exchange, version: String, cell: Option<CellSize>) -> Decision {
        let pane = self.env.tmux_pane.clone();
        let ask_tmux = |probe: &mut P, format: &str| {
            pane.as_deref()
                .and_then(|p| probe.tmux(&["display-message", "-p", "-t", p, format]))
        };
        let attached = ask_tmux(self.probe, "#{session_attached}").map(|s| s.trim() != "0");
        let outer = ask_tmux(self.probe, "#{client_termtype}").filter(|s| !s.trim().is_empty());
        let features = ask_tmux(self.probe, "#{client_termfeatures}").unwrap_or_default();
        self.report.multiplexer = Multiplexer::Tmux {
            version,
            outer: outer.clone(),
            attached,
        };
        let depth = match self.forced_depth() {
            Some(d) => d,
            None => {
                self.report.depth_why =
                    "inside tmux, which turns 24-bit colour into what the terminal outside shows"
                        .into();
                ColourDepth::TrueColor
            }
        };
        let tmux_sixel = r1.da1().is_some_and(|p| p.contains(&4));
        if let Some(p) = self.forced_protocol() {
            self.report.protocol_why = "forced (--image-protocol)".into();
            let wrap = match p {
                GraphicsProtocol::Halfblocks => false,
                GraphicsProtocol::Sixel if tmux_sixel => false,
                _ => self.passthrough_for_forced(),
            };
            return (p, depth, cell, wrap);
        }
        if tmux_sixel {
            if cell.is_some() {
                self.report.protocol_why =
                    "sixel drawn by tmux itself: its DA1 answer lists 4 (sixel)".into();
                return (GraphicsProtocol::Sixel, depth, cell, false);
            }
            self.rule_out("sixel drawn by tmux: the cell size in pixels is unknown");
        } else {
            self.rule_out(format!(
                "sixel drawn by tmux: its DA1 answer ({:?}) does not list 4 (tmux 3.4+ built with sixel does)",
                r1.da1().unwrap_or_default()
            ));
        }
        self.rule_out(
            "sixel, iTerm2 or direct kitty images through passthrough: tmux puts them at its own cursor, not in this pane",
        );
        if let Some(decision) =
            self.kitty_through_tmux(attached, outer.as_deref(), &features, depth, cell)
        {
            return decision;
        }
        self.report.protocol_why = "inside tmux, nothing else lands in the right place".into();
        (GraphicsProtocol::Halfblocks, depth, cell, false)
    }

    /// kitty placeholders through passthrough: only to a terminal that has them, asked
    /// through passthrough (switched on for this pane for the question, kept on if used).
    fn kitty_through_tmux(
        &mut self,
        attached: Option<bool>,
        outer: Option<&str>,
        features: &str,
        depth: ColourDepth,
        cell: Option<CellSize>,
    ) -> Option<Decision> {
        let why_not = |s: &str| format!("kitty placeholders through passthrough: {s}");
        let Some(pane) = self.env.tmux_pane.clone() else {
            self.rule_out(why_not(
                "TMUX_PANE is not set, so the pane cannot be told apart",
            ));
            return None;
        };
        if attached != Some(true) {
            self.rule_out(why_not(
                "the tmux session is detached: no terminal outside to ask",
            ));
            return None;
        }
        let outer_id = outer.map(TermId::parse);
        if !outer_id
            .as_ref()
            .is_some_and(TermId::has_kitty_placeholders)
        {
            self.rule_out(why_not(&format!(
                "the terminal outside tmux is {}, not kitty ≥ 0.28 or ghostty",
                outer.unwrap_or("unknown to tmux")
            )));
            return None;
        }
        let rgb = features.split(',').any(|f| f == "RGB")
            || self.probe.tmux(&["show-messages", "-T"]).is_some_and(|m| {
                m.contains("Tc: (flag) true")
                    || m.contains("RGB: (flag) true")
                    || m.contains("setrgbf: (string)")
            });
        if !rgb {
            self.rule_out(why_not(
                "tmux does not send 24-bit colour to the terminal outside, and placeholder cells carry the picture's id in their colour",
            ));
            return None;
        }
        if let Err(e) = self.probe.enable_passthrough(&pane) {
            self.rule_out(why_not(&e));
            return None;
        }
        let query = format!(
            "{}{}{}",
            tmux_wrap("\x1b[>q"),
            tmux_wrap(KITTY_QUERY),
            tmux_wrap(DA1)
        );
        let r2 = self.ask(&query);
        let confirmed = r2.kitty_ok()
            && r2
                .xtversion()
                .map(TermId::parse)
                .is_some_and(|i| i.has_kitty_placeholders());
        if confirmed && cell.is_some() {
            self.report.passthrough =
                format!("allow-passthrough on for pane {pane} (put back at exit)");
            self.report.protocol_why = format!(
                "kitty placeholders through tmux passthrough: the terminal outside ({}) answered the kitty query",
                outer.unwrap_or_default()
            );
            return Some((GraphicsProtocol::KittyPlaceholders, depth, cell, true));
        }
        self.probe.disable_passthrough();
        self.report.passthrough = "switched on to ask the terminal outside, then put back".into();
        self.rule_out(why_not(if cell.is_none() {
            "the cell size in pixels is unknown"
        } else {
            "the terminal outside did not confirm through passthrough"
        }));
        None
    }

    fn real_terminal(
        &mut self,
        r1: &Exchange,
        id: Option<TermId>,
        cell: Option<CellSize>,
    ) -> Decision {
        let r2 = self.ask(ROUND2);
        let depth = match self.forced_depth() {
            Some(d) => d,
            None => self.depth_from_terminfo(false, r2.kept_rgb_colour()),
        };
        let name = id
            .as_ref()
            .map_or("the terminal".to_string(), ToString::to_string);
        let sixel = r1.da1().is_some_and(|p| p.contains(&4));
        let kitty = r2.kitty_ok();
        let placeholders = kitty && id.as_ref().is_some_and(TermId::has_kitty_placeholders);
        let iterm2 = id.as_ref().is_some_and(TermId::has_iterm2_images);
        if let Some(p) = self.forced_protocol() {
            self.report.protocol_why = "forced (--image-protocol)".into();
            // Forced kitty on a kitty without placeholders: place directly instead.
            let p = if p == GraphicsProtocol::KittyPlaceholders
                && id
                    .as_ref()
                    .is_some_and(|i| i.is("kitty") && !i.has_kitty_placeholders())
            {
                GraphicsProtocol::KittyDirect
            } else {
                p
            };
            return (p, depth, cell, false);
        }
        let mut candidates: Vec<(GraphicsProtocol, Result<String, String>)> = Vec::new();
        candidates.push((
            GraphicsProtocol::KittyPlaceholders,
            match (kitty, placeholders) {
                (true, true) => Ok(format!(
                    "{name} answered the kitty graphics query and has unicode placeholders"
                )),
                (true, false) => Err(format!(
                    "{name} has no unicode placeholders (kitty ≥ 0.28 has)"
                )),
                (false, _) => Err("no answer to the kitty graphics query".into()),
            },
        ));
        candidates.push((
            GraphicsProtocol::KittyDirect,
            if kitty {
                Ok(format!(
                    "{name} answered the kitty graphics query; pictures are placed directly"
                ))
            } else {
                Err("no answer to the kitty graphics query".into())
            },
        ));
        candidates.push((
            GraphicsProtocol::Iterm2,
            if iterm2 {
                Ok(format!("{name} draws iTerm2 inline images"))
            } else {
                Err(format!(
                    "{name} is not known to draw iTerm2 images (iTerm2, WezTerm, mintty)"
                ))
            },
        ));
        candidates.push((
            GraphicsProtocol::Sixel,
            if sixel {
                Ok("the DA1 answer lists 4 (sixel)".into())
            } else {
                Err(format!(
                    "the DA1 answer ({:?}) does not list 4",
                    r1.da1().unwrap_or_default()
                ))
            },
        ));
        let mut chosen = None;
        for (protocol, verdict) in candidates {
            match verdict {
                Ok(why) if chosen.is_none() && cell.is_some() => chosen = Some((protocol, why)),
                Ok(_) if chosen.is_none() => {
                    self.rule_out(format!(
                        "{}: the cell size in pixels is unknown",
                        protocol.name()
                    ));
                }
                Ok(why) => self.rule_out(format!(
                    "{}: possible ({why}), but a better one was chosen",
                    protocol.name()
                )),
                Err(why) => self.rule_out(format!("{}: {why}", protocol.name())),
            }
        }
        match chosen {
            Some((protocol, why)) => {
                self.report.protocol_why = why;
                (protocol, depth, cell, false)
            }
            None => {
                self.report.protocol_why = "no graphics protocol proved to work".into();
                (GraphicsProtocol::Halfblocks, depth, cell, false)
            }
        }
    }
}

/// Detection on this process's terminal, and what must live as long as the session.
pub struct Detection {
    pub choice: Choice,
    pub env: Env,
    /// Keys typed while the questions were out, for the app, in order.
    pub typed_ahead: Vec<KeyEvent>,
    /// tmux's `allow-passthrough`, on for our pane while pictures need it; put back on drop.
    pub passthrough: Option<PassthroughGuard>,
}

/// Detects how to draw pictures here: asks `/dev/tty` (raw mode for the questions, the
/// previous mode after), tmux and terminfo.
pub fn detect_here(
    forced: ImageProtocolChoice,
    colours: Option<ColorsChoice>,
    background: [u8; 3],
) -> Detection {
    let env = Env::from_process();
    let mut probe = RealProbe::default();
    let choice = choose(&mut probe, &env, forced, colours, background);
    let passthrough = probe.guard.take();
    drop(probe);
    Detection {
        typed_ahead: crate::tui::terminal_query::keys(&choice.typed),
        choice,
        env,
        passthrough,
    }
}

#[derive(Default)]
struct RealProbe {
    tty: Option<Tty>,
    tty_error: Option<String>,
    guard: Option<PassthroughGuard>,
}

impl Probe for RealProbe {
    fn ask(&mut self, query: &str, timeout: Duration) -> Exchange {
        if self.tty.is_none() && self.tty_error.is_none() {
            match Tty::open() {
                Ok(t) => self.tty = Some(t),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot open /dev/tty to query the terminal");
                    self.tty_error = Some(e.to_string());
                }
            }
        }
        match &mut self.tty {
            Some(t) => t.ask(query, timeout),
            None => Exchange::default(),
        }
    }

    fn tmux(&mut self, args: &[&str]) -> Option<String> {
        crate::tui::tmux::tmux(args)
    }

    fn tput_colors(&mut self) -> Option<u32> {
        let out = std::process::Command::new("tput")
            .arg("colors")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }

    fn terminfo_truecolor(&mut self) -> bool {
        std::process::Command::new("infocmp")
            .arg("-x")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .is_ok_and(|out| {
                let text = String::from_utf8_lossy(&out.stdout);
                text.split(|c: char| c == ',' || c.is_whitespace())
                    .any(|cap| cap == "Tc" || cap == "RGB" || cap.starts_with("setrgbf="))
            })
    }

    fn ioctl_cell(&mut self) -> Option<CellSize> {
        let ws = crossterm::terminal::window_size().ok()?;
        (ws.width >= ws.columns && ws.height >= ws.rows && ws.columns > 0 && ws.rows > 0).then(
            || CellSize {
                width: ws.width / ws.columns,
                height: ws.height / ws.rows,
            },
        )
    }

    fn enable_passthrough(&mut self, pane: &str) -> Result<(), String> {
        let guard = PassthroughGuard::enable(pane)?;
        self.guard = Some(guard);
        Ok(())
    }

    fn disable_passthrough(&mut self) {
        if let Some(g) = self.guard.take() {
            g.restore();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::terminal_query::split;

    /// Answers recorded in real terminals (Debian 12), replayed per question.
    #[derive(Default)]
    struct Recorded {
        round1: Option<&'static [u8]>,
        round2: Option<&'static [u8]>,
        passthrough_round: Option<&'static [u8]>,
        tmux: Vec<(&'static str, &'static str)>,
        tput: Option<u32>,
        terminfo_rgb: bool,
        ioctl: Option<CellSize>,
        passthrough: Vec<String>,
        asked: Vec<String>,
    }

    impl Probe for Recorded {
        fn ask(&mut self, query: &str, _: Duration) -> Exchange {
            self.asked.push(query.to_string());
            let bytes = if query == ROUND1 {
                self.round1
            } else if query == ROUND2 {
                self.round2
            } else {
                self.passthrough_round
            };
            match bytes {
                Some(b) => {
                    let (answers, typed) = split(b);
                    Exchange {
                        finished: answers
                            .iter()
                            .any(|a| matches!(a, crate::tui::terminal_query::Answer::Da1(_))),
                        answers,
                        typed,
                        elapsed: Duration::from_millis(3),
                    }
                }
                None => Exchange::default(),
            }
        }
        fn tmux(&mut self, args: &[&str]) -> Option<String> {
            let last = args.last()?;
            self.tmux
                .iter()
                .find(|(k, _)| k == last)
                .map(|(_, v)| v.to_string())
        }
        fn tput_colors(&mut self) -> Option<u32> {
            self.tput
        }
        fn terminfo_truecolor(&mut self) -> bool {
            self.terminfo_rgb
        }
        fn ioctl_cell(&mut self) -> Option<CellSize> {
            self.ioctl
        }
        fn enable_passthrough(&mut self, pane: &str) -> Result<(), String> {
            self.passthrough.push(format!("on {pane}"));
            Ok(())
        }
        fn disable_passthrough(&mut self) {
            self.passthrough.push("back".into());
        }
    }

    const XTERM_VT340: &[u8] =
        b"\x1bP>|XTerm(379)\x1b\\\x1b[>19;379;0c\x1b[?63;1;2;4;6;9;15;16;22;28c";
    const XTERM_ROUND2: &[u8] = b"\x1bP1$r0;38:2::1:2:3m\x1b\\\x1b[?63;1;2;4;6;9;15;16;22;28c";
    const XTERM_PLAIN: &[u8] =
        b"\x1bP>|XTerm(379)\x1b\\\x1b[>41;379;0c\x1b[?64;1;2;6;9;15;16;17;18;21;22;28c";
    const XTERM_PLAIN_ROUND2: &[u8] =
        b"\x1bP1$r0;38:2::1:2:3m\x1b\\\x1b[?64;1;2;6;9;15;16;17;18;21;22;28c";
    const KITTY_026: &[u8] = b"\x1bP>|kitty(0.26.5)\x1b\\\x1b[>1;4000;26c\x1b[6;20;9t\x1b[?62;c";
    const KITTY_ROUND2: &[u8] = b"\x1b_Gi=31;OK\x1b\\\x1bP1$r38:2:1:2:3m\x1b\\\x1b[?62;c";
    const KITTY_035: &[u8] = b"\x1bP>|kitty(0.35.2)\x1b\\\x1b[>1;4000;35c\x1b[6;20;9t\x1b[?62;52;c";
    const TMUX_33: &[u8] = b"\x1bP>|tmux 3.3a\x1b\\\x1b[>84;0;0c\x1b[?1;2c";
    const TMUX_34_SIXEL: &[u8] = b"\x1bP>|tmux 3.4\x1b\\\x1b[>84;0;0c\x1b[?1;2;4c";
    const SCREEN_409: &[u8] = b"\x1b[>83;40900;0c\x1b[?1;2c";
    const XTERM_CELL: CellSize = CellSize {
        width: 6,
        height: 13,
    };

    fn env(term: &str) -> Env {
        Env {
            is_tty: true,
            term: term.into(),
            ..Env::default()
        }
    }

    fn tmux_env() -> Env {
        Env {
            in_tmux: true,
            tmux_pane: Some("%3".into()),
            ..env("tmux-256color")
        }
    }

    fn run(p: &mut Recorded, e: &Env) -> Choice {
        choose(p, e, ImageProtocolChoice::Auto, None, [28, 28, 32])
    }

    #[test]
    fn xterm_vt340_gets_sixel_in_24_bit() {
        let mut p = Recorded {
            round1: Some(XTERM_VT340),
            round2: Some(XTERM_ROUND2),
            tput: Some(8),
            ioctl: Some(XTERM_CELL),
            ..Default::default()
        };
        let c = run(&mut p, &env("xterm"));
        assert_eq!(c.renderer.protocol, GraphicsProtocol::Sixel);
        assert_eq!(
            c.renderer.depth,
            ColourDepth::TrueColor,
            "{}",
            c.report.depth_why
        );
        assert_eq!(c.renderer.cell, XTERM_CELL);
        assert!(!c.renderer.tmux_passthrough);
        assert_eq!(c.report.terminal.as_deref(), Some("XTerm 379"));
        assert!(
            c.report
                .ruled_out
                .iter()
                .any(|r| r.contains("kitty graphics query"))
        );
    }

    #[test]
    fn plain_xterm_gets_halfblocks_and_no_cell_size_still_works() {
        let mut p = Recorded {
            round1: Some(XTERM_PLAIN),
            round2: Some(XTERM_PLAIN_ROUND2),
            tput: Some(8),
            ..Default::default()
        };
        let c = run(&mut p, &env("xterm"));
        assert_eq!(c.renderer.protocol, GraphicsProtocol::Halfblocks);
        assert_eq!(c.renderer.depth, ColourDepth::TrueColor);
    }

    #[test]
    fn kitty_026_gets_direct_placement_and_035_placeholders() {
        let mut p = Recorded {
            round1: Some(KITTY_026),
            round2: Some(KITTY_ROUND2),
            ..Default::default()
        };
        let c = run(&mut p, &env("xterm-kitty"));
        assert_eq!(c.renderer.protocol, GraphicsProtocol::KittyDirect);
        assert_eq!(
            c.renderer.cell,
            CellSize {
                width: 9,
                height: 20
            }
        );
        assert!(
            c.report
                .ruled_out
                .iter()
                .any(|r| r.contains("no unicode placeholders"))
        );
        let mut p = Recorded {
            round1: Some(KITTY_035),
            round2: Some(KITTY_ROUND2),
            ..Default::default()
        };
        assert_eq!(
            run(&mut p, &env("xterm-kitty")).renderer.protocol,
            GraphicsProtocol::KittyPlaceholders
        );
    }

    #[test]
    fn tmux_in_xterm_gets_halfblocks_and_leaves_passthrough_alone() {
        let mut p = Recorded {
            round1: Some(TMUX_33),
            tmux: vec![
                ("#{session_attached}", "1"),
                ("#{client_termtype}", "XTerm(379)"),
                ("#{client_termfeatures}", "256,bpaste,RGB,title"),
            ],
            ioctl: Some(XTERM_CELL),
            ..Default::default()
        };
        let c = run(&mut p, &tmux_env());
        assert_eq!(c.renderer.protocol, GraphicsProtocol::Halfblocks);
        assert_eq!(c.renderer.depth, ColourDepth::TrueColor);
        assert!(p.passthrough.is_empty(), "{:?}", p.passthrough);
        assert_eq!(
            p.asked,
            vec![ROUND1.to_string()],
            "no kitty or DCS query inside tmux"
        );
        assert!(
            matches!(c.report.multiplexer, Multiplexer::Tmux { ref outer, .. } if outer.as_deref() == Some("XTerm(379)"))
        );
    }

    #[test]
    fn tmux_with_sixel_draws_sixel_itself() {
        let mut p = Recorded {
            round1: Some(TMUX_34_SIXEL),
            ioctl: Some(XTERM_CELL),
            ..Default::default()
        };
        let c = run(&mut p, &tmux_env());
        assert_eq!(c.renderer.protocol, GraphicsProtocol::Sixel);
        assert!(!c.renderer.tmux_passthrough);
        assert!(p.passthrough.is_empty());
    }

    #[test]
    fn tmux_in_new_kitty_uses_placeholders_through_passthrough() {
        let mut p = Recorded {
            round1: Some(TMUX_33),
            passthrough_round: Some(b"\x1bP>|kitty(0.35.2)\x1b\\\x1b_Gi=31;OK\x1b\\\x1b[?62;52;c"),
            tmux: vec![
                ("#{session_attached}", "1"),
                ("#{client_termtype}", "kitty(0.35.2)"),
                (
                    "#{client_termfeatures}",
                    "bpaste,ccolour,clipboard,RGB,title",
                ),
            ],
            ioctl: Some(CellSize {
                width: 9,
                height: 20,
            }),
            ..Default::default()
        };
        let c = run(&mut p, &tmux_env());
        assert_eq!(c.renderer.protocol, GraphicsProtocol::KittyPlaceholders);
        assert!(c.renderer.tmux_passthrough);
        assert_eq!(p.passthrough, vec!["on %3".to_string()]);
        assert!(p.asked[1].starts_with("\x1bPtmux;\x1b\x1b[>q"));
    }

    #[test]
    fn tmux_in_old_kitty_or_detached_gets_halfblocks() {
        for (termtype, attached) in [
            ("kitty(0.26.5)", "1"),
            ("kitty(0.35.2)", "0"),
            ("kitty(0.29.0)", "1"),
        ] {
            let mut p = Recorded {
                round1: Some(TMUX_33),
                tmux: vec![
                    ("#{session_attached}", attached),
                    ("#{client_termtype}", termtype),
                    ("#{client_termfeatures}", "RGB"),
                ],
                ioctl: Some(CellSize {
                    width: 9,
                    height: 20,
                }),
                ..Default::default()
            };
            let c = run(&mut p, &tmux_env());
            assert_eq!(
                c.renderer.protocol,
                GraphicsProtocol::Halfblocks,
                "{termtype} {attached}"
            );
            assert!(p.passthrough.is_empty());
        }
    }

    #[test]
    fn outer_kitty_that_does_not_confirm_puts_passthrough_back() {
        let mut p = Recorded {
            round1: Some(TMUX_33),
            passthrough_round: None,
            tmux: vec![
                ("#{session_attached}", "1"),
                ("#{client_termtype}", "kitty(0.35.2)"),
                ("#{client_termfeatures}", "RGB"),
            ],
            ioctl: Some(CellSize {
                width: 9,
                height: 20,
            }),
            ..Default::default()
        };
        let c = run(&mut p, &tmux_env());
        assert_eq!(c.renderer.protocol, GraphicsProtocol::Halfblocks);
        assert_eq!(p.passthrough, vec!["on %3".to_string(), "back".to_string()]);
    }

    #[test]
    fn screen_gets_halfblocks_in_its_palette_and_no_dcs() {
        for (tput, depth) in [
            (Some(256), ColourDepth::Palette256),
            (Some(8), ColourDepth::Basic16),
        ] {
            let mut p = Recorded {
                round1: Some(SCREEN_409),
                tput,
                terminfo_rgb: true,
                ..Default::default()
            };
            let e = Env {
                sty: Some("1234.pts-0.host".into()),
                colorterm: "truecolor".into(),
                ..env("screen.xterm-256color")
            };
            let c = run(&mut p, &e);
            assert_eq!(c.renderer.protocol, GraphicsProtocol::Halfblocks);
            assert_eq!(c.renderer.depth, depth);
            assert_eq!(p.asked, vec![ROUND1.to_string()]);
            assert_eq!(
                c.report.multiplexer,
                Multiplexer::Screen {
                    version: Some("4.09.00".into())
                }
            );
        }
    }

    #[test]
    fn no_answer_means_halfblocks_and_typed_keys_are_kept() {
        let mut p = Recorded {
            round1: Some(b"1\x1b[B"),
            tput: Some(256),
            ..Default::default()
        };
        let c = run(&mut p, &env("xterm-256color"));
        assert_eq!(c.renderer.protocol, GraphicsProtocol::Halfblocks);
        assert_eq!(c.renderer.depth, ColourDepth::Palette256);
        assert_eq!(c.typed, b"1\x1b[B");
        assert!(
            c.report.protocol_why.contains("no answer"),
            "{}",
            c.report.protocol_why
        );
        let mut p = Recorded::default();
        let c = run(&mut p, &Env::default());
        assert_eq!(c.renderer.protocol, GraphicsProtocol::Halfblocks);
        assert!(
            p.asked.is_empty(),
            "nothing is asked when not in a terminal"
        );
    }

    #[test]
    fn forcing_beats_detection() {
        let mut p = Recorded {
            round1: Some(XTERM_VT340),
            round2: Some(XTERM_ROUND2),
            ioctl: Some(XTERM_CELL),
            ..Default::default()
        };
        let c = choose(
            &mut p,
            &env("xterm"),
            ImageProtocolChoice::Halfblocks,
            Some(ColorsChoice::Palette256),
            [0, 0, 0],
        );
        assert_eq!(c.renderer.protocol, GraphicsProtocol::Halfblocks);
        assert_eq!(c.renderer.depth, ColourDepth::Palette256);
        // Forced sixel inside tmux 3.3a goes through passthrough, switched on for our pane.
        let mut p = Recorded {
            round1: Some(TMUX_33),
            ..Default::default()
        };
        let c = choose(
            &mut p,
            &tmux_env(),
            ImageProtocolChoice::Sixel,
            None,
            [0, 0, 0],
        );
        assert_eq!(c.renderer.protocol, GraphicsProtocol::Sixel);
        assert!(c.renderer.tmux_passthrough);
        assert_eq!(p.passthrough, vec!["on %3".to_string()]);
        // Forced kitty on kitty 0.26: direct placement, the form it can draw.
        let mut p = Recorded {
            round1: Some(KITTY_026),
            round2: Some(KITTY_ROUND2),
            ..Default::default()
        };
        let c = choose(
            &mut p,
            &env("xterm-kitty"),
            ImageProtocolChoice::Kitty,
            None,
            [0, 0, 0],
        );
        assert_eq!(c.renderer.protocol, GraphicsProtocol::KittyDirect);
    }

    #[test]
    fn versions_parse() {
        assert_eq!(TermId::parse("kitty(0.26.5)").numbers(), vec![0, 26, 5]);
        assert_eq!(
            TermId::parse("tmux 3.3a"),
            TermId {
                name: "tmux".into(),
                version: "3.3a".into()
            }
        );
        assert_eq!(TermId::parse("tmux 3.3a").numbers(), vec![3, 3]);
        assert!(TermId::parse("kitty(0.28.0)").has_kitty_placeholders());
        assert!(!TermId::parse("kitty(0.29.0)").has_kitty_placeholders());
        assert!(TermId::parse("kitty(0.29.1)").has_kitty_placeholders());
        assert!(!TermId::parse("XTerm(379)").has_kitty_placeholders());
        assert!(TermId::parse("WezTerm 20240203-110809-5046fc22").has_iterm2_images());
    }
}
