//! Screen geometry: the state needs each tile's image size to ask for images encoded at
//! exactly that size, and `ui` draws into the same rectangles. Pure functions of the
//! terminal size.

use ratatui::layout::{Margin, Rect};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// The shell's rows: tab bar, the tab's body, its key footer and the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    pub tabs: Rect,
    pub body: Rect,
    pub footer: Rect,
    pub status: Rect,
}

pub fn screen(area: Rect) -> Screen {
    let h = area.height;
    let row = |y: u16, height: u16| Rect::new(area.x, area.y + y, area.width, height);
    Screen {
        tabs: row(0, h.min(1)),
        body: row(h.min(1), h.saturating_sub(3)),
        footer: row(h.saturating_sub(2), h.min(1)),
        status: row(h.saturating_sub(1), h.min(1)),
    }
}

/// One tile: its frame, and the image area inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileArea {
    pub outer: Rect,
    pub image: Rect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelGrid {
    pub cols: usize,
    pub progress: Rect,
    pub tiles: Vec<TileArea>,
}

/// How large a typical 4:3 photo is drawn in a `w`×`h`-cell area (cells are about 1:2).
fn photo_scale(w: u16, h: u16) -> f64 {
    (f64::from(w) / 4.0).min(f64::from(h) * 2.0 / 3.0)
}

/// The Label tab's layout for `slots` tiles: 2×2, or 1×4 when the terminal is so wide that
/// a row of four shows the photos clearly larger. All tiles have the same size, so one
/// encoded size serves every tile (and the prefetched next round).
pub fn label_grid(screen_area: Rect, slots: usize) -> LabelGrid {
    let body = screen(screen_area).body;
    let progress = Rect::new(body.x, body.y, body.width, body.height.min(1));
    let grid = Rect::new(
        body.x,
        body.y + progress.height,
        body.width,
        body.height.saturating_sub(1),
    );
    let slots = slots.max(1) as u16;
    let tile = |cols: u16, rows: u16| (grid.width / cols, grid.height / rows);
    let square_rows = slots.div_ceil(2);
    let (sq_w, sq_h) = tile(2, square_rows);
    let (wide_w, wide_h) = tile(slots, 1);
    // A margin, so a terminal near the threshold does not flip layouts on small resizes.
    let wide = photo_scale(wide_w.saturating_sub(2), wide_h.saturating_sub(2))
        > 1.15 * photo_scale(sq_w.saturating_sub(2), sq_h.saturating_sub(2));
    let (cols, w, h) = if wide {
        (slots, wide_w, wide_h)
    } else {
        (2, sq_w, sq_h)
    };
    let tiles = (0..slots)
        .map(|i| {
            let outer = Rect::new(grid.x + (i % cols) * w, grid.y + (i / cols) * h, w, h);
            TileArea {
                outer,
                image: outer.inner(Margin::new(1, 1)),
            }
        })
        .collect();
    LabelGrid {
        cols: usize::from(cols),
        progress,
        tiles,
    }
}

/// The zoomed view: one tile over the whole grid area (below the progress line).
pub fn zoom_area(screen_area: Rect) -> TileArea {
    let body = screen(screen_area).body;
    let progress = body.height.min(1);
    let outer = Rect::new(
        body.x,
        body.y + progress,
        body.width,
        body.height - progress,
    );
    TileArea {
        outer,
        image: outer.inner(Margin::new(1, 1)),
    }
}

/// A `w`×`h` rectangle centred in `area` (clipped to it).
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The rows of a `len`-row list to build for a view `rows` high: from the first row shown
/// last time (`first_shown`, updated), moved just enough to keep `selected` in view — what
/// ratatui's `TableState` does, done here so only those rows are built. At 100,000 images
/// building every row each frame took tens of milliseconds and about 100 MB.
pub fn rows_in_view(
    len: usize,
    rows: usize,
    selected: usize,
    first_shown: &std::cell::Cell<usize>,
) -> std::ops::Range<usize> {
    let rows = rows.max(1);
    let selected = selected.min(len.saturating_sub(1));
    let mut first = first_shown.get().min(len.saturating_sub(rows));
    if selected < first {
        first = selected;
    } else if selected >= first + rows {
        first = selected + 1 - rows;
    }
    first_shown.set(first);
    first..(first + rows).min(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_grid_at_80x24_and_wide_row_on_very_wide_terminals() {
        let g = label_grid(Rect::new(0, 0, 80, 24), 4);
        assert_eq!(g.cols, 2);
        assert_eq!(g.tiles[0].image, Rect::new(1, 3, 38, 8));
        let g = label_grid(Rect::new(0, 0, 240, 40), 4);
        assert_eq!(g.cols, 4);
        assert!(
            g.tiles
                .iter()
                .all(|t| t.image.width == g.tiles[0].image.width)
        );
    }

    #[test]
    fn zoom_covers_the_whole_grid() {
        let screen = Rect::new(0, 0, 100, 30);
        let z = zoom_area(screen);
        let g = label_grid(screen, 4);
        let last = g.tiles[3].outer;
        assert_eq!(z.outer.x, g.tiles[0].outer.x);
        assert_eq!(z.outer.y, g.tiles[0].outer.y);
        assert!(z.outer.right() >= last.right() && z.outer.bottom() >= last.bottom());
        assert!(z.image.width > 2 * g.tiles[0].image.width);
        assert!(z.image.height > 2 * g.tiles[0].image.height);
    }

    #[test]
    fn centred_rect_stays_inside() {
        assert_eq!(
            centered(Rect::new(10, 10, 20, 10), 4, 2),
            Rect::new(18, 14, 4, 2)
        );
        assert_eq!(
            centered(Rect::new(0, 0, 5, 5), 50, 50),
            Rect::new(0, 0, 5, 5)
        );
    }
}
