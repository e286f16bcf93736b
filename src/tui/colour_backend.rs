//! A terminal backend that shows only the colours the terminal has: on a 256- or 16-colour
//! terminal every 24-bit colour (half-block pictures, the app's own styles) is sent as the
//! nearest palette entry instead of `38;2;r;g;b`, which such terminals turn into noise.
//! Cells of kitty placeholders keep their colour: it carries the picture's id.

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

use crate::graphics::ColourDepth;
use crate::graphics::palette::limit;

/// kitty's placeholder character.
const KITTY_PLACEHOLDER: char = '\u{10EEEE}';

pub struct DepthLimited<B> {
    inner: B,
    depth: ColourDepth,
}

impl<B> DepthLimited<B> {
    pub fn new(inner: B, depth: ColourDepth) -> Self {
        DepthLimited { inner, depth }
    }
}

/// `cell` with its colours limited to `depth`.
pub fn limit_cell(cell: &Cell, depth: ColourDepth) -> Cell {
    let mut c = cell.clone();
    if !c.symbol().contains(KITTY_PLACEHOLDER) {
        c.fg = limit(c.fg, depth);
    }
    c.bg = limit(c.bg, depth);
    c
}

impl<B: Backend> Backend for DepthLimited<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        if self.depth == ColourDepth::TrueColor {
            return self.inner.draw(content);
        }
        let limited: Vec<(u16, u16, Cell)> = content
            .map(|(x, y, cell)| (x, y, limit_cell(cell, self.depth)))
            .collect();
        self.inner.draw(limited.iter().map(|(x, y, c)| (*x, *y, c)))
    }

    fn append_lines(&mut self, n: u16) -> Result<(), Self::Error> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }

    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::{Color, Style};

    #[test]
    fn rgb_is_sent_as_palette_colours() {
        let mut t = Terminal::new(DepthLimited::new(
            TestBackend::new(3, 1),
            ColourDepth::Palette256,
        ))
        .unwrap();
        t.draw(|f| {
            let buf = f.buffer_mut();
            buf[(0, 0)].set_style(
                Style::new()
                    .fg(Color::Rgb(255, 0, 0))
                    .bg(Color::Rgb(28, 28, 32)),
            );
            buf[(1, 0)].set_style(Style::new().fg(Color::Yellow));
            buf[(2, 0)]
                .set_symbol("\u{10EEEE}\u{305}")
                .set_style(Style::new().fg(Color::Rgb(0, 16, 146)));
        })
        .unwrap();
        let shown = t.backend().inner.buffer();
        assert_eq!(shown[(0, 0)].fg, Color::Indexed(196));
        assert_eq!(shown[(0, 0)].bg, Color::Indexed(234));
        assert_eq!(shown[(1, 0)].fg, Color::Yellow);
        assert_eq!(
            shown[(2, 0)].fg,
            Color::Rgb(0, 16, 146),
            "placeholder ids stay"
        );
    }
}
