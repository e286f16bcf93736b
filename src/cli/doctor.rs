//! `hotdog-tui doctor`: how pictures will be drawn in this terminal, and why. Runs the same
//! detection as the session (the same questions, the same forcing flags) and prints it.

use std::fmt::Write as _;
use std::process::ExitCode;

use crate::config::Settings;
use crate::tui::detect::{Detection, Multiplexer, detect_here};

pub fn run(settings: &Settings) -> ExitCode {
    let detection = detect_here(
        settings.image_protocol,
        settings.colors,
        crate::app::theme::TILE_BG_RGB,
    );
    print!("{}", describe(&detection));
    // The guard (if any) puts tmux's allow-passthrough back when dropped here.
    ExitCode::SUCCESS
}

fn describe(d: &Detection) -> String {
    let c = &d.choice;
    let r = &c.report;
    let mut out = String::new();
    let mut line = |label: &str, text: String| {
        let _ = writeln!(out, "{label:<13}{text}");
    };
    line(
        "terminal",
        match (&r.terminal, r.answered_in) {
            (Some(t), Some(ms)) => format!("{t} (answered in {} ms)", ms.as_millis()),
            (None, Some(ms)) => format!(
                "did not say its name (XTVERSION), answered in {} ms",
                ms.as_millis()
            ),
            (_, None) if r.waited.is_zero() => {
                format!("not asked ({}): TERM={}", r.protocol_why, d.env.term)
            }
            (_, None) => format!(
                "no answer (waited {} ms): TERM={}",
                r.waited.as_millis(),
                d.env.term
            ),
        },
    );
    line(
        "multiplexer",
        match &r.multiplexer {
            Multiplexer::None if d.env.in_tmux => {
                "none answered, though TMUX is set (stale environment?)".into()
            }
            Multiplexer::None => "none".into(),
            Multiplexer::Tmux {
                version,
                outer,
                attached,
            } => format!(
                "tmux {version}, {}, the terminal outside: {}",
                match attached {
                    Some(true) => "attached",
                    Some(false) => "detached",
                    None => "attachment unknown",
                },
                outer.as_deref().unwrap_or("unknown to tmux")
            ),
            Multiplexer::Screen { version } => format!(
                "GNU screen {}",
                version.as_deref().unwrap_or("(version not reported)")
            ),
        },
    );
    line(
        "ssh",
        if r.ssh {
            "yes (SSH_CONNECTION is set): answers take a network round trip".into()
        } else {
            "no".into()
        },
    );
    line(
        "colours",
        format!("{} — {}", c.renderer.depth.name(), r.depth_why),
    );
    line(
        "cell size",
        format!(
            "{}×{} px — {}",
            c.renderer.cell.width, c.renderer.cell.height, r.cell_why
        ),
    );
    line(
        "protocol",
        format!("{} — {}", c.renderer.protocol.name(), r.protocol_why),
    );
    line("passthrough", r.passthrough.clone());
    if d.passthrough
        .as_ref()
        .is_some_and(|g| g.changed_something())
    {
        line(
            "",
            "(the session keeps it on while it runs; doctor has put it back now)".into(),
        );
    }
    let _ = writeln!(out, "ruled out");
    if r.ruled_out.is_empty() {
        let _ = writeln!(out, "  (nothing)");
    }
    for why in &r.ruled_out {
        let _ = writeln!(out, "  - {why}");
    }
    let _ = writeln!(out, "answers");
    if r.answers.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for a in &r.answers {
        let _ = writeln!(out, "  {a}");
    }
    let _ = writeln!(
        out,
        "environment  TERM={} COLORTERM={} TMUX_PANE={} STY={}",
        d.env.term,
        d.env.colorterm,
        d.env.tmux_pane.as_deref().unwrap_or(""),
        d.env.sty.as_deref().unwrap_or("")
    );
    let _ = writeln!(
        out,
        "force with   --image-protocol auto|halfblocks|sixel|kitty|iterm2, --colors 24bit|256|16 (or image-protocol / colors in the config file)"
    );
    out
}
