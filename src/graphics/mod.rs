//! How a decoded picture becomes terminal output: the protocol and colour depth chosen for
//! this terminal (`Renderer`, chosen by `tui`), fitting and encoding a picture for a tile
//! (`Renderer::encode`, run off the UI thread by `app`), and drawing it (`Picture`, a widget
//! `ui` renders). CPU work only: nothing here talks to the terminal.

pub mod kitty_direct;
pub mod palette;

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use image::imageops::FilterType;
use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
use ratatui::buffer::Buffer;
use ratatui::layout::{Rect, Size};
use ratatui::widgets::Widget;
use ratatui_image::Image;
use ratatui_image::protocol::Protocol;
use ratatui_image::protocol::halfblocks::Halfblocks;
use ratatui_image::protocol::iterm2::Iterm2;
use ratatui_image::protocol::kitty::Kitty;
use ratatui_image::protocol::sixel::Sixel;

use self::kitty_direct::KittyDirect;

/// How pictures reach the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphicsProtocol {
    /// `▀`/`▄` cells with a foreground and a background colour: text, works everywhere.
    Halfblocks,
    /// DEC sixel graphics (xterm -ti vt340, foot, mlterm, WezTerm, tmux ≥ 3.4 built with it).
    Sixel,
    /// kitty graphics shown through unicode placeholder cells (kitty ≥ 0.28, ghostty);
    /// the only kitty form that survives tmux, as the cells are text.
    KittyPlaceholders,
    /// kitty graphics placed at the cursor (kitty before 0.28 has no placeholders).
    KittyDirect,
    /// iTerm2 inline images (iTerm2, WezTerm, mintty).
    Iterm2,
}

impl GraphicsProtocol {
    pub fn name(self) -> &'static str {
        match self {
            GraphicsProtocol::Halfblocks => "half-blocks",
            GraphicsProtocol::Sixel => "sixel",
            GraphicsProtocol::KittyPlaceholders => "kitty (unicode placeholders)",
            GraphicsProtocol::KittyDirect => "kitty (direct placement)",
            GraphicsProtocol::Iterm2 => "iTerm2",
        }
    }

    /// Whether pictures are made of pixels the terminal draws over the cells (these must
    /// stay out from under overlays and be removed when they leave the screen).
    pub fn is_pixels(self) -> bool {
        !matches!(
            self,
            GraphicsProtocol::Halfblocks | GraphicsProtocol::KittyPlaceholders
        )
    }
}

/// Colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourDepth {
    TrueColor,
    Palette256,
    Basic16,
}

impl ColourDepth {
    pub fn name(self) -> &'static str {
        match self {
            ColourDepth::TrueColor => "24-bit",
            ColourDepth::Palette256 => "256 colours",
            ColourDepth::Basic16 => "16 colours",
        }
    }
}

impl From<crate::config::ColorsChoice> for ColourDepth {
    fn from(c: crate::config::ColorsChoice) -> Self {
        match c {
            crate::config::ColorsChoice::TrueColor => ColourDepth::TrueColor,
            crate::config::ColorsChoice::Palette256 => ColourDepth::Palette256,
            crate::config::ColorsChoice::Basic16 => ColourDepth::Basic16,
        }
    }
}

/// The size of one terminal cell in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellSize {
    pub width: u16,
    pub height: u16,
}

impl CellSize {
    /// What half-blocks assume when the terminal does not say: cells twice as tall as wide.
    pub const ASSUMED: CellSize = CellSize {
        width: 10,
        height: 20,
    };
}

/// Everything needed to turn a picture into terminal output on this terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renderer {
    pub protocol: GraphicsProtocol,
    pub depth: ColourDepth,
    pub cell: CellSize,
    /// Wrap graphics in tmux's passthrough (`ESC Ptmux;…`) for the terminal outside tmux.
    pub tmux_passthrough: bool,
    /// Colour of the tile behind a picture; pads a pixel picture to whole cells.
    pub background: [u8; 3],
}

impl Renderer {
    pub fn halfblocks(depth: ColourDepth, background: [u8; 3]) -> Renderer {
        Renderer {
            protocol: GraphicsProtocol::Halfblocks,
            depth,
            cell: CellSize::ASSUMED,
            tmux_passthrough: false,
            background,
        }
    }

    /// Resizes and encodes `image` to fit `area` (cells), keeping its aspect ratio; small
    /// images grow to fill it. Blocking CPU work: run it off the UI thread.
    pub fn encode(&self, image: &DynamicImage, area: Size) -> Result<Picture, EncodeError> {
        if area.width == 0 || area.height == 0 || image.width() == 0 || image.height() == 0 {
            return Err(EncodeError::Empty);
        }
        let inner = match self.protocol {
            GraphicsProtocol::Halfblocks => {
                let (img, size) = self.halfblock_pixels(image, area);
                Inner::Cells(Protocol::Halfblocks(
                    Halfblocks::new(DynamicImage::ImageRgb8(img), size)
                        .map_err(|e| EncodeError::Protocol(e.to_string()))?,
                ))
            }
            pixels => {
                let (img, size) = self.padded_pixels(image, area);
                let img = DynamicImage::ImageRgba8(img);
                let wrap = self.tmux_passthrough;
                let err = |e: ratatui_image::errors::Errors| EncodeError::Protocol(e.to_string());
                match pixels {
                    GraphicsProtocol::Sixel => {
                        Inner::Cells(Protocol::Sixel(Sixel::new(img, size, wrap).map_err(err)?))
                    }
                    GraphicsProtocol::KittyPlaceholders => Inner::Cells(Protocol::Kitty(
                        Kitty::new(img, size, next_kitty_id(), wrap, false).map_err(err)?,
                    )),
                    GraphicsProtocol::Iterm2 => {
                        Inner::Cells(Protocol::ITerm2(Iterm2::new(img, size, wrap).map_err(err)?))
                    }
                    _ => Inner::KittyDirect(KittyDirect::new(&img, size, next_kitty_id())),
                }
            }
        };
        Ok(Picture { inner })
    }

    /// Half-blocks: whole cells only, rounded *down*, so no cell mixes the picture's edge
    /// with padding (the grey column a rounded-up fit leaves at the right edge). The picture
    /// is resized to exactly two pixels per cell row, then reduced to the colour depth.
    fn halfblock_pixels(&self, image: &DynamicImage, area: Size) -> (RgbImage, Size) {
        let (fw, fh) = (f64::from(self.cell.width), f64::from(self.cell.height));
        let (w, h) = fit(image, area, self.cell);
        let cols = ((w / fw).floor() as u16).clamp(1, area.width);
        let rows = ((h / fh).floor() as u16).clamp(1, area.height);
        let mut img = image
            .resize_exact(u32::from(cols), u32::from(rows) * 2, FilterType::Triangle)
            .to_rgb8();
        palette::reduce(&mut img, self.depth);
        (img, Size::new(cols, rows))
    }

    /// Pixel protocols: the picture at its fitted size, centred on a canvas of whole cells
    /// in the tile's colour (so the part of a cell it does not cover matches the tile).
    fn padded_pixels(&self, image: &DynamicImage, area: Size) -> (RgbaImage, Size) {
        let (fw, fh) = (u32::from(self.cell.width), u32::from(self.cell.height));
        let (w, h) = fit(image, area, self.cell);
        let (w, h) = ((w.round() as u32).max(1), (h.round() as u32).max(1));
        let cols = w.div_ceil(fw).clamp(1, u32::from(area.width));
        let rows = h.div_ceil(fh).clamp(1, u32::from(area.height));
        let (cw, ch) = (cols * fw, rows * fh);
        let (w, h) = (w.min(cw), h.min(ch));
        let [r, g, b] = self.background;
        let mut canvas = RgbaImage::from_pixel(cw, ch, Rgba([r, g, b, 255]));
        let scaled = image.resize_exact(w, h, FilterType::Triangle).to_rgba8();
        image::imageops::overlay(
            &mut canvas,
            &scaled,
            i64::from((cw - w) / 2),
            i64::from((ch - h) / 2),
        );
        // Both are at most the tile's size in cells, which is a u16.
        (canvas, Size::new(cols as u16, rows as u16))
    }
}

/// The largest size (in pixels) at which `image` fits `area` with its aspect ratio kept.
fn fit(image: &DynamicImage, area: Size, cell: CellSize) -> (f64, f64) {
    let box_w = f64::from(area.width) * f64::from(cell.width);
    let box_h = f64::from(area.height) * f64::from(cell.height);
    let (iw, ih) = (f64::from(image.width()), f64::from(image.height()));
    let scale = (box_w / iw).min(box_h / ih);
    (iw * scale, ih * scale)
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum EncodeError {
    #[error("nothing to draw into (empty picture or area)")]
    Empty,
    #[error("{0}")]
    Protocol(String),
}

/// kitty image ids of this process. They start at a random point so two sessions in one
/// kitty window (two tmux panes) do not replace each other's pictures, and stay below
/// 2^24 so a placeholder cell's 24-bit colour carries the whole id.
static NEXT_KITTY_ID: AtomicU32 = AtomicU32::new(0);
static KITTY_IDS_USED: Mutex<Vec<u32>> = Mutex::new(Vec::new());
const KITTY_ID_LIMIT: u32 = 1 << 24;

fn next_kitty_id() -> u32 {
    let _ = NEXT_KITTY_ID.compare_exchange(
        0,
        fastrand::u32(1..KITTY_ID_LIMIT / 2),
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    let id = NEXT_KITTY_ID.fetch_add(1, Ordering::Relaxed) % KITTY_ID_LIMIT;
    let id = id.max(1);
    if let Ok(mut used) = KITTY_IDS_USED.lock() {
        used.push(id);
    }
    id
}

/// The kitty escape that deletes every kitty picture this process sent (placements and
/// data), wrapped for tmux if needed; empty when none was sent. Written at quit.
pub fn kitty_cleanup(tmux_passthrough: bool) -> String {
    let ids = match KITTY_IDS_USED.lock() {
        Ok(mut used) => std::mem::take(&mut *used),
        Err(_) => return String::new(),
    };
    ids.iter()
        .map(|&id| wrap_for_tmux(&kitty_direct::delete(id), tmux_passthrough))
        .collect()
}

/// `seq` inside tmux's passthrough (`ESC Ptmux;` + escapes doubled + `ESC \`) when asked.
pub fn wrap_for_tmux(seq: &str, wrap: bool) -> String {
    if wrap {
        format!("\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"))
    } else {
        seq.to_string()
    }
}

/// An encoded, ready-to-draw picture.
#[derive(Clone)]
pub struct Picture {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Cells(Protocol),
    KittyDirect(KittyDirect),
}

impl Picture {
    /// Its size in cells.
    pub fn size(&self) -> Size {
        match &self.inner {
            Inner::Cells(p) => p.size(),
            Inner::KittyDirect(k) => k.size(),
        }
    }

    /// Whether it is drawn as text cells (half-blocks, kitty placeholders), which other
    /// text can cover; pixel pictures are left out while an overlay is open.
    pub fn is_text(&self) -> bool {
        matches!(
            &self.inner,
            Inner::Cells(Protocol::Halfblocks(_) | Protocol::Kitty(_))
        )
    }
}

impl fmt::Debug for Picture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.inner {
            Inner::Cells(Protocol::Halfblocks(_)) => "halfblocks",
            Inner::Cells(Protocol::Sixel(_)) => "sixel",
            Inner::Cells(Protocol::Kitty(_)) => "kitty placeholders",
            Inner::Cells(Protocol::ITerm2(_)) => "iterm2",
            Inner::KittyDirect(_) => "kitty direct",
        };
        write!(f, "Picture({kind}, {:?})", self.size())
    }
}

impl Widget for &Picture {
    fn render(self, area: Rect, buf: &mut Buffer) {
        match &self.inner {
            Inner::Cells(p) => Image::new(p).render(area, buf),
            Inner::KittyDirect(k) => k.render(area, buf),
        }
    }
}

/// Test pictures: a flat colour.
pub fn flat_image(width: u32, height: u32, rgb: [u8; 3]) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_pixel(width, height, Rgb(rgb)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Color;

    const BG: [u8; 3] = [28, 28, 32];

    fn cells(picture: &Picture) -> Buffer {
        let s = picture.size();
        let area = Rect::new(0, 0, s.width, s.height);
        let mut buf = Buffer::empty(area);
        picture.render(area, &mut buf);
        buf
    }

    #[test]
    fn halfblocks_have_no_padded_edge() {
        // Tall photos in tiles where a rounded-up fit padded the last column half or more.
        let r = Renderer::halfblocks(ColourDepth::TrueColor, BG);
        for (w, h, area) in [
            (3000, 4000, Size::new(38, 17)),
            (3000, 4000, Size::new(40, 15)),
            (1080, 1920, Size::new(38, 17)),
            (4000, 3000, Size::new(38, 17)),
            (500, 500, Size::new(47, 11)),
        ] {
            let red = [200, 30, 30];
            let p = r.encode(&flat_image(w, h, red), area).unwrap();
            let s = p.size();
            assert!(s.width <= area.width && s.height <= area.height);
            let buf = cells(&p);
            for cell in buf.content() {
                for c in [cell.fg, cell.bg] {
                    if c != Color::Reset {
                        assert_eq!(c, Color::Rgb(200, 30, 30), "{w}x{h} in {area:?}: {c:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn halfblocks_keep_the_aspect_ratio() {
        let r = Renderer::halfblocks(ColourDepth::TrueColor, BG);
        // A square picture in a wide tile: as many columns as two-pixel rows (1:2 cells).
        let p = r
            .encode(&flat_image(600, 600, [1, 2, 3]), Size::new(80, 20))
            .unwrap();
        assert_eq!(p.size(), Size::new(40, 20));
        // A tiny picture grows to fill the tile.
        let p = r
            .encode(&flat_image(4, 2, [1, 2, 3]), Size::new(40, 30))
            .unwrap();
        assert_eq!(p.size(), Size::new(40, 10));
    }

    #[test]
    fn halfblocks_at_256_and_16_colours_use_only_palette_colours() {
        for (depth, ok) in [
            (ColourDepth::Palette256, 16..=255u8),
            (ColourDepth::Basic16, 0..=15u8),
        ] {
            let r = Renderer::halfblocks(depth, BG);
            let gradient = DynamicImage::ImageRgb8(RgbImage::from_fn(90, 60, |x, y| {
                Rgb([(x * 2) as u8, (y * 4) as u8, 120])
            }));
            let buf = cells(&r.encode(&gradient, Size::new(30, 10)).unwrap());
            for cell in buf.content() {
                for c in [cell.fg, cell.bg] {
                    let Color::Rgb(r, g, b) = c else {
                        panic!("{c:?}")
                    };
                    let limited = palette::limit(c, depth);
                    let Color::Indexed(i) = limited else {
                        panic!("{limited:?}")
                    };
                    assert!(ok.contains(&i));
                    assert_eq!(palette::rgb_of_index(i), [r, g, b], "{depth:?}");
                }
            }
        }
    }

    #[test]
    fn pixel_pictures_cover_whole_cells_and_fit_the_area() {
        for protocol in [
            GraphicsProtocol::Sixel,
            GraphicsProtocol::KittyDirect,
            GraphicsProtocol::KittyPlaceholders,
            GraphicsProtocol::Iterm2,
        ] {
            let r = Renderer {
                protocol,
                depth: ColourDepth::TrueColor,
                cell: CellSize {
                    width: 6,
                    height: 13,
                },
                tmux_passthrough: false,
                background: BG,
            };
            let p = r
                .encode(&flat_image(610, 610, [0, 200, 0]), Size::new(47, 11))
                .unwrap();
            // 11 rows of 13 px = 143 px tall, so 143 px wide = 23.8 → 24 columns.
            assert_eq!(p.size(), Size::new(24, 11), "{protocol:?}");
            assert_eq!(p.is_text(), protocol == GraphicsProtocol::KittyPlaceholders);
            let (canvas, size) =
                r.padded_pixels(&flat_image(610, 610, [0, 200, 0]), Size::new(47, 11));
            assert_eq!((canvas.width(), canvas.height()), (24 * 6, 11 * 13));
            assert_eq!(size, Size::new(24, 11));
            assert_eq!(
                canvas.get_pixel(143, 70).0,
                [28, 28, 32, 255],
                "pad in the tile colour"
            );
            assert_eq!(canvas.get_pixel(72, 70).0, [0, 200, 0, 255]);
        }
    }

    #[test]
    fn passthrough_doubles_escapes() {
        assert_eq!(
            wrap_for_tmux("\x1b_Ga\x1b\\", true),
            "\x1bPtmux;\x1b\x1b_Ga\x1b\x1b\\\x1b\\"
        );
        assert_eq!(wrap_for_tmux("\x1b[c", false), "\x1b[c");
    }

    #[test]
    fn empty_areas_are_an_error_not_a_panic() {
        let r = Renderer::halfblocks(ColourDepth::TrueColor, BG);
        assert!(r.encode(&flat_image(10, 10, BG), Size::new(0, 5)).is_err());
        let p = r.encode(&flat_image(1, 1, BG), Size::new(1, 1)).unwrap();
        assert_eq!(p.size(), Size::new(1, 1));
    }
}
