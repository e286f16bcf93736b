//! The release binary in real terminal emulators under an X server (Xvfb): xterm with sixel,
//! plain xterm, tmux and GNU screen inside xterm, kitty 0.26 and tmux inside it. Each case
//! runs on a data dir holding exactly 4 pictures made here (a flat colour inside a light
//! frame), takes screenshots (ImageMagick `import`) until every tile's centre shows one of
//! the pictures' centre colours, each picture once, checks the protocol chosen, zooms,
//! votes with keys sent by xdotool, quits, and then checks that no picture is left on the
//! screen and that tmux's options are as they were. Fails (never skips) when the X server
//! or a terminal cannot start: `scripts/test` installs them.
//!
//! Screenshots are kept in `target/real-terminals/` for a look.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use hotdog_tui::app::layout;
use hotdog_tui::graphics::{CellSize, ColourDepth, Renderer};
use image::{Rgb, RgbImage};
use ratatui::layout::{Rect, Size};

/// The X display these tests use (`HOTDOG_TEST_X_DISPLAY` overrides), its own so that other
/// sessions on the machine are never touched.
const DISPLAY_NUMBER: &str = "98";
/// The four pictures: a flat centre colour each (colours every depth can show: the 16
/// basic colours), inside a light grey frame.
const PICTURES: [(&str, [u8; 3]); 4] = [
    ("red.png", [205, 0, 0]),
    ("green.png", [0, 205, 0]),
    ("blue.png", [0, 0, 238]),
    ("yellow.png", [205, 205, 0]),
];
const FRAME: [u8; 3] = [229, 229, 229];
/// How far (RGB distance) a tile's centre may be from its picture's centre colour.
const TOLERANCE: f64 = 45.0;
/// Terminal size in cells.
const COLS: u16 = 100;
const ROWS: u16 = 32;

use crate::tmux::release_bin;

fn shots_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/real-terminals");
    std::fs::create_dir_all(&d).unwrap();
    d
}

// ---------------------------------------------------------------- the X server

struct XServer {
    display: String,
    _xvfb: Child,
    /// While this process holds the pipe, the watchdog waits; when the process ends (however
    /// it ends) the pipe closes and the watchdog stops Xvfb: no X server outlives the tests.
    _watchdog: ChildStdin,
}

static X: OnceLock<Result<XServer, String>> = OnceLock::new();
/// One case at a time: they share the display, its focus and the screen.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn x_server() -> (&'static XServer, MutexGuard<'static, ()>) {
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    match X.get_or_init(start_x) {
        Ok(x) => (x, guard),
        Err(e) => panic!("{e}"),
    }
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn start_x() -> Result<XServer, String> {
    let missing: Vec<&str> = [
        "Xvfb", "xdpyinfo", "xterm", "kitty", "screen", "tmux", "import", "xdotool",
    ]
    .into_iter()
    .filter(|t| !have(t))
    .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the real-terminal tests need {missing:?}: run scripts/test, which installs them \
             (apt-get install xvfb x11-utils xterm kitty screen tmux imagemagick xdotool)"
        ));
    }
    let number = std::env::var("HOTDOG_TEST_X_DISPLAY").unwrap_or_else(|_| DISPLAY_NUMBER.into());
    let display = format!(":{}", number.trim_start_matches(':'));
    let log = shots_dir().join("xvfb.log");
    let mut xvfb = Command::new("Xvfb")
        .args([
            &display,
            "-screen",
            "0",
            "1280x900x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start Xvfb: {e}"))?;
    let watchdog = Command::new("sh")
        .args(["-c", &format!("read _; kill {}", xvfb.id())])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the Xvfb watchdog: {e}"))?
        .stdin
        .take()
        .ok_or("no pipe to the Xvfb watchdog")?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = xvfb.try_wait() {
            return Err(format!(
                "Xvfb could not start on display {display} ({status}); is another X server using it? \
                 Set HOTDOG_TEST_X_DISPLAY to a free number. Its log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        let up = Command::new("xdpyinfo")
            .args(["-display", &display])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        // Our Xvfb must still be running: a server someone else started would answer too.
        if up && xvfb.try_wait().is_ok_and(|s| s.is_none()) {
            break;
        }
        if Instant::now() > deadline {
            let _ = xvfb.kill();
            return Err(format!("Xvfb did not come up on {display} within 10 s"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(XServer {
        display,
        _xvfb: xvfb,
        _watchdog: watchdog,
    })
}

// ---------------------------------------------------------------- the pictures and data dir

fn picture(rgb: [u8; 3]) -> RgbImage {
    let (w, h) = (320u32, 240u32);
    RgbImage::from_fn(w, h, |x, y| {
        let frame = x < w / 8 || x >= w - w / 8 || y < h / 8 || y >= h - h / 8;
        Rgb(if frame { FRAME } else { rgb })
    })
}

/// A data dir with exactly the 4 pictures (an `objects` folder made first, so the store is
/// not new and is not seeded with the sample images).
fn data_dir_with_four_pictures(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    let pics = dir.join("pictures");
    std::fs::create_dir_all(data.join("objects")).unwrap();
    std::fs::create_dir_all(&pics).unwrap();
    use std::os::unix::fs::PermissionsExt;
    for d in [&data, &data.join("objects")] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    for (name, rgb) in PICTURES {
        picture(rgb).save(pics.join(name)).unwrap();
    }
    let out = Command::new(release_bin())
        .arg("--data-dir")
        .arg(&data)
        .arg("--log-file")
        .arg(dir.join("upload.log"))
        .arg("upload")
        .arg(&pics)
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "upload failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = std::fs::read_dir(data.join("objects/images"))
        .unwrap()
        .count();
    assert_eq!(listed, 4, "the data dir holds exactly the 4 pictures");
    data
}

// ---------------------------------------------------------------- a terminal with the app

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Terminal {
    /// xterm; `vt340` gives it sixel.
    Xterm {
        vt340: bool,
    },
    TmuxInXterm,
    /// GNU screen in xterm; `term256`: xterm says `xterm-256color`, so screen has 256 colours.
    ScreenInXterm {
        term256: bool,
    },
    Kitty,
    TmuxInKitty,
}

impl Terminal {
    fn in_tmux(self) -> bool {
        matches!(self, Terminal::TmuxInXterm | Terminal::TmuxInKitty)
    }
}

struct Session {
    name: &'static str,
    dir: tempfile::TempDir,
    data: PathBuf,
    display: String,
    terminal: Child,
    kind: Terminal,
    window: String,
    tmux_socket: String,
    screen_name: String,
}

impl Session {
    fn start(x: &XServer, name: &'static str, kind: Terminal, app_args: &[&str]) -> Session {
        let dir = tempfile::tempdir().unwrap();
        let data = data_dir_with_four_pictures(dir.path());
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let tmux_socket = format!("hd-real-{tag}");
        let screen_name = format!("hd-real-{tag}");
        let run = dir.path().join("run.sh");
        let d = dir.path().display();
        std::fs::write(
            &run,
            format!(
                "stty size > '{d}/size'\n'{}' --data-dir '{}' --log-file '{d}/app.log' --user tester {}\necho $? > '{d}/exit'\nsleep 600\n",
                release_bin().display(),
                data.display(),
                app_args.join(" ")
            ),
        )
        .unwrap();
        let run = run.display().to_string();
        let geometry = format!("{COLS}x{ROWS}+0+0");
        // `term`: what xterm sets TERM to (its default is `xterm`, 8 colours in terminfo).
        let xterm = |vt340: bool, term: &str| {
            let mut c = Command::new("xterm");
            if vt340 {
                c.args(["-ti", "vt340"]);
            }
            c.args(["-tn", term, "-geometry", &geometry, "-e"]);
            c
        };
        let kitty = || {
            let mut c = Command::new("kitty");
            c.args([
                "--config",
                "NONE",
                "-o",
                &format!("initial_window_width={COLS}c"),
                "-o",
                &format!("initial_window_height={ROWS}c"),
                "-o",
                "remember_window_size=no",
                "-o",
                "window_padding_width=0",
                "-o",
                "placement_strategy=top-left",
            ]);
            c
        };
        let tmux_args = |c: &mut Command| {
            c.args([
                "tmux",
                "-L",
                &tmux_socket,
                "-f",
                "/dev/null",
                "new-session",
                "sh",
            ])
            .arg(&run);
        };
        let mut cmd = match kind {
            Terminal::Xterm { vt340 } => {
                let mut c = xterm(vt340, "xterm");
                c.args(["sh", &run]);
                c
            }
            Terminal::TmuxInXterm => {
                let mut c = xterm(true, "xterm");
                tmux_args(&mut c);
                c
            }
            Terminal::ScreenInXterm { term256 } => {
                let rc = dir.path().join("screenrc");
                std::fs::write(&rc, "startup_message off\n").unwrap();
                let mut c = xterm(true, if term256 { "xterm-256color" } else { "xterm" });
                c.args(["screen", "-q", "-c"])
                    .arg(&rc)
                    .args(["-S", &screen_name, "sh", &run]);
                c
            }
            Terminal::Kitty => {
                let mut c = kitty();
                c.args(["sh", &run]);
                c
            }
            Terminal::TmuxInKitty => {
                let mut c = kitty();
                tmux_args(&mut c);
                c
            }
        };
        cmd.env("DISPLAY", &x.display)
            .env("HOME", dir.path())
            .env_remove("TMUX")
            .env_remove("TMUX_PANE")
            .env_remove("STY")
            .env_remove("COLORTERM")
            .env_remove("TERM_PROGRAM")
            .env("TERM", "xterm")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("terminal.log")).unwrap());
        let terminal = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the terminal for {name}: {e}"));
        let mut s = Session {
            name,
            dir,
            data,
            display: x.display.clone(),
            terminal,
            kind,
            window: String::new(),
            tmux_socket,
            screen_name,
        };
        s.window = s.find_window();
        s
    }

    fn x(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", &self.display);
        c
    }

    fn find_window(&mut self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = self
                .x("xdotool")
                .args(["search", "--onlyvisible", "--pid"])
                .arg(self.terminal.id().to_string())
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            if let Some(w) = text.lines().next().filter(|l| !l.trim().is_empty()) {
                return w.trim().to_string();
            }
            if let Ok(Some(status)) = self.terminal.try_wait() {
                panic!(
                    "{}: the terminal exited ({status}) before showing a window: {}",
                    self.name,
                    std::fs::read_to_string(self.dir.path().join("terminal.log"))
                        .unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{}: no terminal window within 20 s",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn geometry(&self) -> (u32, u32, u32, u32) {
        let out = self
            .x("xdotool")
            .args(["getwindowgeometry", "--shell", &self.window])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let get = |k: &str| -> u32 {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("no {k} in xdotool's answer: {text}"))
        };
        (get("X"), get("Y"), get("WIDTH"), get("HEIGHT"))
    }

    /// The app's terminal size (rows, cols), as its shell saw it.
    fn app_size(&self) -> (u16, u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(s) = std::fs::read_to_string(self.dir.path().join("size"))
                && let Some((r, c)) = s.trim().split_once(' ')
            {
                return (r.parse().unwrap(), c.parse().unwrap());
            }
            assert!(
                Instant::now() < deadline,
                "{}: the app never started",
                self.name
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The terminal window, as a picture.
    fn screenshot(&self, label: &str) -> RgbImage {
        let path = shots_dir().join(format!("{}-{label}.png", self.name));
        let status = self
            .x("import")
            .args(["-window", "root"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success(), "import failed");
        let root = image::open(&path).unwrap().to_rgb8();
        let (x, y, w, h) = self.geometry();
        let shot = image::imageops::crop_imm(&root, x, y, w, h).to_image();
        shot.save(&path).unwrap();
        shot
    }

    fn keys(&self, keys: &[&str]) {
        let ok = self
            .x("xdotool")
            .args(["windowfocus", "--sync", &self.window])
            .status()
            .unwrap()
            .success();
        assert!(ok, "xdotool could not focus the terminal");
        for k in keys {
            let ok = self
                .x("xdotool")
                .args(["key", "--window", &self.window, "--clearmodifiers", k])
                .status()
                .unwrap()
                .success();
            assert!(ok, "xdotool key {k} failed");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("app.log")).unwrap_or_default()
    }

    /// The "pictures" line of the app's log: what was chosen and why.
    fn chosen(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = self.log().lines().find(|l| l.contains(" pictures ")) {
                return l.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "{}: nothing logged about pictures:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn exit_code(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(s) = std::fs::read_to_string(self.dir.path().join("exit")) {
                return s.trim().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "{}: the app did not exit:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.tmux_socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The pane's own `allow-passthrough` ("" = not set on the pane) and its effective value.
    fn passthrough(&self) -> (String, String) {
        (
            self.tmux(&["show-options", "-p", "-v", "-t", "%0", "allow-passthrough"]),
            self.tmux(&[
                "show-options",
                "-p",
                "-A",
                "-v",
                "-t",
                "%0",
                "allow-passthrough",
            ]),
        )
    }

    fn votes(&self) -> u64 {
        let out = Command::new(release_bin())
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--log-file")
            .arg(self.dir.path().join("stats.log"))
            .args(["stats", "--json"])
            .env("HOME", self.dir.path())
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["totals"]["votes"].as_u64().unwrap()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.terminal.kill();
        let _ = self.terminal.wait();
        if self.kind.in_tmux() {
            let _ = self.tmux(&["kill-server"]);
        }
        if matches!(self.kind, Terminal::ScreenInXterm { .. }) {
            let _ = Command::new("screen")
                .args(["-S", &self.screen_name, "-X", "quit"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

// ---------------------------------------------------------------- looking at the screen

/// Cell size and the grid's top-left pixel in the window: the window is `COLS`×`ROWS`
/// cells plus a border (xterm's is 2 px each side, kitty's 0 here).
fn cell_geometry(shot: &RgbImage) -> (f64, f64, f64, f64) {
    let cw = f64::from(shot.width() / u32::from(COLS));
    let ch = f64::from(shot.height() / u32::from(ROWS));
    let ox = ((f64::from(shot.width()) - cw * f64::from(COLS)) / 2.0).floor();
    let oy = ((f64::from(shot.height()) - ch * f64::from(ROWS)) / 2.0).floor();
    (cw, ch, ox, oy)
}

/// Mean colour of the pixels of `cells` (a rectangle in cells, fractional allowed).
fn mean_colour(shot: &RgbImage, x0: f64, y0: f64, x1: f64, y1: f64) -> [f64; 3] {
    let (cw, ch, ox, oy) = cell_geometry(shot);
    let px = |c: f64| (ox + c * cw).round() as u32;
    let py = |r: f64| (oy + r * ch).round() as u32;
    let mut sum = [0f64; 3];
    let mut n = 0f64;
    for y in py(y0)..py(y1).min(shot.height()) {
        for x in px(x0)..px(x1).min(shot.width()) {
            let p = shot.get_pixel(x, y).0;
            for (s, v) in sum.iter_mut().zip(p) {
                *s += f64::from(v);
            }
            n += 1.0;
        }
    }
    sum.map(|s| s / n.max(1.0))
}

fn distance(a: [f64; 3], b: [u8; 3]) -> f64 {
    (0..3)
        .map(|i| (a[i] - f64::from(b[i])).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// The mean colour around the centre of `rect` (the middle fifth of the smaller side).
fn centre_colour(shot: &RgbImage, rect: Rect, cell_aspect: f64) -> [f64; 3] {
    let (cx, cy) = (
        f64::from(rect.x) + f64::from(rect.width) / 2.0,
        f64::from(rect.y) + f64::from(rect.height) / 2.0,
    );
    let half_h = f64::from(rect.height) / 10.0;
    let half_w = half_h * cell_aspect;
    mean_colour(shot, cx - half_w, cy - half_h, cx + half_w, cy + half_h)
}

/// Which picture each tile shows (by centre colour), or why the screen is not right yet.
fn tiles_show_the_pictures(shot: &RgbImage, app: (u16, u16)) -> Result<Vec<usize>, String> {
    let (rows, cols) = app;
    let grid = layout::label_grid(Rect::new(0, 0, cols, rows), 4);
    let (cw, ch, _, _) = cell_geometry(shot);
    let mut shown = Vec::new();
    let mut report = Vec::new();
    for tile in &grid.tiles {
        let m = centre_colour(shot, tile.image, ch / cw);
        let (best, d) = PICTURES
            .iter()
            .enumerate()
            .map(|(i, (_, rgb))| (i, distance(m, *rgb)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        report.push(format!(
            "{:?} ~ {} ({d:.0})",
            m.map(|v| v.round()),
            PICTURES[best].0
        ));
        if d > TOLERANCE || shown.contains(&best) {
            return Err(format!("tiles: {}", report.join(", ")));
        }
        shown.push(best);
    }
    Ok(shown)
}

/// How much of the app's rows (not tmux's status line below them) still shows one of the
/// pictures' colours.
fn picture_pixels(shot: &RgbImage, app_rows: u16) -> f64 {
    let (_, ch, _, oy) = cell_geometry(shot);
    let bottom = ((oy + ch * f64::from(app_rows)) as u32).min(shot.height());
    let n = (0..bottom)
        .flat_map(|y| (0..shot.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let m = shot.get_pixel(x, y).0.map(f64::from);
            PICTURES
                .iter()
                .any(|(_, rgb)| distance(m, *rgb) < TOLERANCE)
        })
        .count();
    n as f64 / f64::from(shot.width() * bottom.max(1))
}

/// Screenshots until each tile shows its picture (within `within`).
fn wait_for_pictures(s: &Session, within: Duration) -> (RgbImage, Vec<usize>) {
    let app = s.app_size();
    let deadline = Instant::now() + within;
    loop {
        let shot = s.screenshot("label");
        match tiles_show_the_pictures(&shot, app) {
            Ok(order) => return (shot, order),
            Err(why) if Instant::now() > deadline => panic!(
                "{}: the tiles do not show the 4 pictures ({why}); see {}; log:\n{}",
                s.name,
                shots_dir().join(format!("{}-label.png", s.name)).display(),
                s.log()
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(300)),
        }
    }
}

/// Half-blocks: the picture's last column shows the frame, not a mix of it with the tile
/// (the grey right-edge column a rounded-up fit used to leave).
fn right_edge_is_the_frame(s: &Session, shot: &RgbImage, app: (u16, u16)) {
    let (rows, cols) = app;
    let grid = layout::label_grid(Rect::new(0, 0, cols, rows), 4);
    let tile = grid.tiles[0].image;
    let size = Size::new(tile.width, tile.height);
    // The same fit the app made, with the cell size it logged.
    let chosen = s.chosen();
    let cell = chosen
        .split(" cell=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|c| c.split_once('x'))
        .map(|(w, h)| CellSize {
            width: w.parse().unwrap(),
            height: h.parse().unwrap(),
        })
        .unwrap_or_else(|| panic!("no cell size in the log line: {chosen}"));
    let renderer = Renderer {
        cell,
        ..Renderer::halfblocks(ColourDepth::TrueColor, [28, 28, 32])
    };
    let fitted = renderer
        .encode(&image::DynamicImage::ImageRgb8(picture([0, 0, 0])), size)
        .unwrap()
        .size();
    for t in &grid.tiles {
        let r = layout::centered(t.image, fitted.width, fitted.height);
        let last = f64::from(r.right()) - 1.0;
        let m = mean_colour(
            shot,
            last + 0.2,
            f64::from(r.y) + 2.0,
            last + 0.8,
            f64::from(r.bottom()) - 2.0,
        );
        assert!(
            distance(m, FRAME) < TOLERANCE,
            "{}: the last column of a picture is {m:?}, not its frame {FRAME:?}",
            s.name
        );
    }
}

// ---------------------------------------------------------------- the cases

struct Expect {
    protocol: &'static str,
    depth: &'static str,
    halfblocks: bool,
}

/// Pictures shown, zoom, votes by key, quit, nothing left behind.
fn label_in(kind: Terminal, name: &'static str, expect: Expect) {
    let (x, _one) = x_server();
    let started = Instant::now();
    let s = Session::start(x, name, kind, &[]);
    let chosen = s.chosen();
    assert!(
        chosen.contains(&format!("protocol=\"{}\"", expect.protocol))
            && chosen.contains(&format!("depth=\"{}\"", expect.depth)),
        "{name}: expected {} in {}, got: {chosen}",
        expect.protocol,
        expect.depth
    );
    let (shot, order) = wait_for_pictures(&s, Duration::from_secs(30));
    let app = s.app_size();
    if expect.halfblocks {
        right_edge_is_the_frame(&s, &shot, app);
    }
    // Zoom: the focused (first) tile's picture alone. The middle of the body, where the
    // grid has tile borders, now shows that picture's colour.
    s.keys(&["z"]);
    let zoom = layout::zoom_area(Rect::new(0, 0, app.1, app.0)).image;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let shot = s.screenshot("zoom");
        let (cw, ch, _, _) = cell_geometry(&shot);
        let m = centre_colour(&shot, zoom, ch / cw);
        if distance(m, PICTURES[order[0]].1) < TOLERANCE {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: zoom does not show {} in the middle ({m:?})",
            PICTURES[order[0]].0
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    // Vote on all four (two while zoomed), back to the grid, quit.
    // (A pause after Esc: GNU screen waits a moment after Esc for the rest of a sequence.)
    s.keys(&["1", "0", "Escape"]);
    std::thread::sleep(Duration::from_millis(700));
    s.keys(&["1", "0"]);
    s.keys(&["q"]);
    assert_eq!(s.exit_code(), "0", "{name}: exit code; log:\n{}", s.log());
    // After quitting, the shell's screen: none of the pictures is left on it (once the
    // emulator has redrawn).
    let deadline = Instant::now() + Duration::from_secs(10);
    let left = loop {
        std::thread::sleep(Duration::from_millis(500));
        let after = s.screenshot("after-quit");
        let left = picture_pixels(&after, app.0);
        if left < 0.002 || Instant::now() >= deadline {
            break left;
        }
    };
    assert!(
        left < 0.002,
        "{name}: {:.1}% of the window still shows the pictures after quitting",
        left * 100.0
    );
    assert_eq!(
        s.votes(),
        4,
        "{name}: the 4 votes typed in the terminal were written"
    );
    if kind.in_tmux() {
        assert_eq!(
            s.passthrough(),
            (String::new(), "off".to_string()),
            "{name}: tmux's allow-passthrough is as it was"
        );
    }
    eprintln!("{name}: {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn real_xterm_vt340_shows_the_pictures_in_sixel() {
    label_in(
        Terminal::Xterm { vt340: true },
        "xterm-vt340",
        Expect {
            protocol: "sixel",
            depth: "24-bit",
            halfblocks: false,
        },
    );
}

#[test]
fn real_xterm_without_sixel_shows_halfblocks_in_24_bit() {
    label_in(
        Terminal::Xterm { vt340: false },
        "xterm",
        Expect {
            protocol: "half-blocks",
            depth: "24-bit",
            halfblocks: true,
        },
    );
}

#[test]
fn real_tmux_in_xterm_shows_halfblocks_and_leaves_passthrough_alone() {
    label_in(
        Terminal::TmuxInXterm,
        "tmux-in-xterm",
        Expect {
            protocol: "half-blocks",
            depth: "24-bit",
            halfblocks: true,
        },
    );
}

#[test]
fn real_screen_in_xterm_shows_halfblocks_in_16_colours() {
    label_in(
        Terminal::ScreenInXterm { term256: false },
        "screen-in-xterm",
        Expect {
            protocol: "half-blocks",
            depth: "16 colours",
            halfblocks: true,
        },
    );
}

#[test]
fn real_screen_in_xterm_256color_shows_halfblocks_in_256_colours() {
    label_in(
        Terminal::ScreenInXterm { term256: true },
        "screen-in-xterm-256color",
        Expect {
            protocol: "half-blocks",
            depth: "256 colours",
            halfblocks: true,
        },
    );
}

#[test]
fn real_kitty_026_places_the_pictures_directly() {
    label_in(
        Terminal::Kitty,
        "kitty",
        Expect {
            protocol: "kitty (direct placement)",
            depth: "24-bit",
            halfblocks: false,
        },
    );
}

#[test]
fn real_tmux_in_kitty_026_shows_halfblocks() {
    label_in(
        Terminal::TmuxInKitty,
        "tmux-in-kitty",
        Expect {
            protocol: "half-blocks",
            depth: "24-bit",
            halfblocks: true,
        },
    );
}

/// A forced protocol that needs passthrough switches it on for the app's pane only while
/// the app runs, and puts the previous value back at quit.
#[test]
fn real_tmux_forced_sixel_puts_passthrough_back_at_quit() {
    let (x, _one) = x_server();
    let s = Session::start(
        x,
        "tmux-forced-sixel",
        Terminal::TmuxInXterm,
        &["--image-protocol", "sixel"],
    );
    let chosen = s.chosen();
    assert!(chosen.contains("protocol=\"sixel\""), "{chosen}");
    assert_eq!(
        s.passthrough(),
        ("on".to_string(), "on".to_string()),
        "switched on while the app runs"
    );
    s.keys(&["q"]);
    assert_eq!(s.exit_code(), "0");
    assert_eq!(
        s.passthrough(),
        (String::new(), "off".to_string()),
        "put back"
    );
}
