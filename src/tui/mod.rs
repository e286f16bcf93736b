//! The full-screen session: terminal setup and restore (quit, error, panic, SIGTERM/SIGHUP:
//! raw mode, the alternate screen, no picture left behind, tmux options put back),
//! choosing how pictures are drawn, and the loop that feeds key presses, effect results
//! and ticks to `app::update` and redraws only when something visible changed.

pub mod colour_backend;
pub mod detect;
pub mod terminal_query;
pub mod tmux;

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use ratatui::layout::Size;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::app::effects::EffectRunner;
use crate::app::{self, Action, State};
use crate::graphics::{GraphicsProtocol, kitty_cleanup, kitty_direct};
use crate::service::context::AppContext;
use crate::tui::colour_backend::DepthLimited;
use crate::tui::tmux::PassthroughGuard;

pub use crate::config::ImageProtocolChoice;

#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    pub no_worker: bool,
    pub image_protocol: ImageProtocolChoice,
    /// `None`: detect the colour depth.
    pub colors: Option<crate::config::ColorsChoice>,
    /// Exit once the first round is fully drawn and print the timings (for benchmarks).
    pub bench_startup: bool,
}

/// How long quitting may take to close the reply queue and stop the worker.
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(5);

/// kitty pictures to delete at exit (`Some(wrap for tmux)`), for the panic hook.
static KITTY_CLEANUP: Mutex<Option<bool>> = Mutex::new(None);
/// The session has the terminal (raw mode, alternate screen): restored once, by whichever
/// comes first of the panic hook and the `Restore` guard.
static IN_SESSION: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back as it was: no kitty picture left, raw mode off, the main screen,
/// the cursor shown. (tmux's passthrough goes back after this, so the deletes reach kitty.)
fn restore_terminal() {
    if !IN_SESSION.swap(false, Ordering::SeqCst) {
        // Already done: clearing again would wipe what was printed since (a panic message).
        return;
    }
    let wrap = KITTY_CLEANUP.try_lock().ok().and_then(|mut k| k.take());
    let mut out = std::io::stdout();
    if let Some(wrap) = wrap {
        // Best effort while exiting: a terminal that is gone cannot be helped.
        let _ = out.write_all(kitty_cleanup(wrap).as_bytes());
    }
    // Cleared first: where there is no alternate screen (GNU screen's default) the last
    // frame would otherwise stay on the shell's screen.
    let _ = crossterm::execute!(
        out,
        crossterm::style::ResetColor,
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All)
    );
    ratatui::restore();
    let _ = crossterm::execute!(out, crossterm::cursor::Show);
}

/// Restores the terminal when dropped: on return, on error and while unwinding.
struct Restore {
    passthrough: Option<PassthroughGuard>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        restore_terminal();
        if let Some(g) = self.passthrough.take() {
            g.restore();
        }
    }
}

/// Raw mode, the alternate screen, and a panic hook that undoes them (and everything
/// `restore_terminal` undoes, and tmux's passthrough) before the panic message prints.
fn enter() -> std::io::Result<()> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        tmux::restore_after_panic();
        previous(info);
    }));
    IN_SESSION.store(true, Ordering::SeqCst);
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    Ok(())
}

/// Runs the session; `Ok(false)` when it ended with answers it could neither keep nor send.
pub async fn run(ctx: AppContext, opts: TuiOptions) -> anyhow::Result<bool> {
    let started = Instant::now();
    let mut restore = Restore { passthrough: None };
    enter()?;
    // Ask the terminal after entering the alternate screen and before anything reads events.
    let detection = detect::detect_here(
        opts.image_protocol,
        opts.colors,
        crate::app::theme::TILE_BG_RGB,
    );
    restore.passthrough = detection.passthrough;
    let choice = detection.choice;
    let renderer = choice.renderer;
    tracing::info!(
        protocol = renderer.protocol.name(),
        depth = renderer.depth.name(),
        cell = %format!("{}x{}", renderer.cell.width, renderer.cell.height),
        why = %choice.report.protocol_why,
        colours = %choice.report.depth_why,
        "pictures"
    );
    if matches!(
        renderer.protocol,
        GraphicsProtocol::KittyDirect | GraphicsProtocol::KittyPlaceholders
    ) && let Ok(mut k) = KITTY_CLEANUP.lock()
    {
        *k = Some(renderer.tmux_passthrough);
    }
    let backend = DepthLimited::new(
        ratatui::backend::CrosstermBackend::new(std::io::stdout()),
        renderer.depth,
    );
    let mut terminal = ratatui::Terminal::new(backend)?;

    let (tx, mut rx) = mpsc::unbounded_channel();
    // Keys typed while the terminal was being asked were read then; hand them on, in order.
    for key in detection.typed_ahead {
        // Cannot fail: `rx` is alive in this function.
        let _ = tx.send(Action::Key(key));
    }
    let worker = (!opts.no_worker).then(|| {
        crate::worker::spawn(
            ctx.clone(),
            crate::worker::WorkerConfig {
                pollers: 2,
                ..Default::default()
            },
        )
    });
    let size = terminal.size()?;
    let mut state = State::new(
        &ctx.backend.kind.describe(),
        &ctx.user,
        worker.is_some(),
        Size::new(size.width, size.height),
        Instant::now(),
    );
    state.label.votes_per_image = ctx.votes_per_image;
    state.review.below = ctx.review_below;
    state.review.reviewers = ctx.reviewers.clone();
    state.pictures = choice.summary();
    let mut runner = EffectRunner::start(ctx, tx.clone(), renderer, worker);
    // kitty pictures placed directly stay until deleted: those that leave the screen are.
    let mut kitty_on_screen = BTreeSet::new();
    for effect in state.initial_effects() {
        runner.run(effect);
    }

    let mut events = EventStream::new();
    let mut events_open = true;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut terminal_ok = true;
    // Test hook: the terminal-restore test needs a real panic in the middle of a session.
    let panic_for_test = std::env::var_os("HOTDOG_TUI_TEST_PANIC").is_some();
    let mut bench = opts.bench_startup.then_some(StartupBench {
        started,
        first_frame: None,
        round_drawn: None,
        key_sent: None,
        key_to_frame: Vec::new(),
    });

    loop {
        if state.dirty && terminal_ok {
            match terminal.draw(|f| crate::app::draw::draw(f, &state)) {
                Ok(frame) if renderer.protocol == GraphicsProtocol::KittyDirect => {
                    let now = kitty_direct::ids_on_screen(frame.buffer);
                    let gone: String = kitty_on_screen
                        .difference(&now)
                        .map(|id| kitty_direct::delete(*id))
                        .collect();
                    kitty_on_screen = now;
                    let mut out = std::io::stdout();
                    // A terminal that cannot take this cannot draw the next frame either.
                    let _ = out.write_all(gone.as_bytes()).and_then(|()| out.flush());
                }
                Ok(_) => {}
                Err(e) => {
                    // The terminal is gone (SIGHUP, closed pty): stop drawing, but still flush answers.
                    tracing::warn!(error = %e, "cannot draw; quitting");
                    terminal_ok = false;
                    absorb(&mut state, &mut runner, Action::Quit);
                }
            }
            state.dirty = false;
            if panic_for_test {
                panic!("deliberate panic (HOTDOG_TUI_TEST_PANIC is set)");
            }
            if let Some(b) = &mut bench {
                match b.record(&state) {
                    BenchStep::Wait => {}
                    BenchStep::PressKey => {
                        // Focus moves: they change the frame but write nothing.
                        let code = if b.key_to_frame.len() % 2 == 0 {
                            crossterm::event::KeyCode::Right
                        } else {
                            crossterm::event::KeyCode::Left
                        };
                        b.key_sent = Some(Instant::now());
                        let _ = tx.send(Action::Key(crossterm::event::KeyEvent::from(code))); // our own channel
                    }
                    BenchStep::Done => break,
                }
            }
        }
        if state.exit.is_some() {
            break;
        }
        let action = tokio::select! {
            ev = events.next(), if events_open => match ev {
                Some(Ok(Event::Key(key))) => Action::Key(key),
                Some(Ok(Event::Resize(width, height))) => Action::Resize { width, height },
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => {
                    events_open = false;
                    Action::Quit
                }
            },
            Some(action) = rx.recv() => action,
            _ = ticks.tick(), if state.wants_tick() => Action::Tick(Instant::now()),
            _ = sigterm.recv() => Action::Quit,
            _ = sighup.recv() => { terminal_ok = false; Action::Quit }
        };
        absorb(&mut state, &mut runner, action);
        // Take everything already queued before drawing: one frame for a burst of results.
        while let Ok(action) = rx.try_recv() {
            absorb(&mut state, &mut runner, action);
        }
    }
    let report = state.exit.take().unwrap_or_default();
    let ok = !state.exit_failed;
    if terminal_ok {
        // Stopping the worker may take a moment: say so rather than freeze.
        state
            .status
            .info("Closing: stopping the worker and removing the reply queue…");
        // Best effort: a last frame that fails to draw changes nothing.
        let _ = terminal.draw(|f| crate::app::draw::draw(f, &state));
    }
    runner.shutdown(SHUTDOWN_LIMIT).await;
    drop(terminal);
    drop(restore);
    for line in report {
        eprintln!("{line}");
    }
    if let Some(b) = bench {
        b.print();
    }
    Ok(ok)
}

fn absorb(state: &mut State, runner: &mut EffectRunner, action: Action) {
    state.set_clock(Instant::now());
    // New statistics or quality figures replace the tables the UI holds (100,000 rows at
    // 100,000 images), and closing the review view drops its list: once the old ones are
    // dropped, their pages go back to the system, off this task (glibc would otherwise
    // keep them, about 8 MB a refresh at that size).
    let replaces_tables = matches!(
        action,
        Action::StatsRefreshed { changed: true, .. } | Action::QualityComputed { .. }
    );
    let reviewing = state.overlay == app::Overlay::Review;
    for effect in app::update(state, action) {
        runner.run(effect);
    }
    if replaces_tables || (reviewing && state.overlay != app::Overlay::Review) {
        tokio::task::spawn_blocking(crate::service::memory::return_freed_memory);
    }
}

/// `--bench-startup`: time to the first frame, to the first round fully drawn, then the
/// time from each of 50 key presses (focus moves, fed through the same channel as real
/// keys) to the end of the frame that shows it.
struct StartupBench {
    started: Instant,
    first_frame: Option<Duration>,
    round_drawn: Option<Duration>,
    key_sent: Option<Instant>,
    key_to_frame: Vec<Duration>,
}

enum BenchStep {
    Wait,
    PressKey,
    Done,
}

const BENCH_KEYS: usize = 50;

impl StartupBench {
    /// Records a drawn frame and says what to do next.
    fn record(&mut self, state: &State) -> BenchStep {
        self.first_frame
            .get_or_insert_with(|| self.started.elapsed());
        if self.round_drawn.is_none() {
            if state.label.images_in_store == Some(0) {
                return BenchStep::Done;
            }
            if !state.round_fully_drawable() {
                return BenchStep::Wait;
            }
            self.round_drawn = Some(self.started.elapsed());
            return BenchStep::PressKey;
        }
        if let Some(sent) = self.key_sent.take() {
            self.key_to_frame.push(sent.elapsed());
        }
        if self.key_to_frame.len() >= BENCH_KEYS {
            BenchStep::Done
        } else {
            BenchStep::PressKey
        }
    }

    fn print(&self) {
        let ms = |d: Option<Duration>| d.map_or(-1.0, |d| d.as_secs_f64() * 1000.0);
        let mut keys = self.key_to_frame.clone();
        keys.sort();
        let pick = |q: f64| {
            keys.get(((keys.len() as f64 - 1.0) * q).round() as usize)
                .copied()
        };
        println!(
            "{{\"first_frame_ms\":{:.1},\"round_drawn_ms\":{:.1},\"keys\":{},\"key_to_frame_p50_ms\":{:.2},\"key_to_frame_max_ms\":{:.2}}}",
            ms(self.first_frame),
            ms(self.round_drawn),
            keys.len(),
            ms(pick(0.5)),
            ms(keys.last().copied())
        );
    }
}
