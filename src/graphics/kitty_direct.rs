//! kitty graphics placed directly at the cursor (`a=T`), for kitty before 0.28, which has no
//! unicode placeholders. Like sixel, the whole escape rides in the picture's first cell and
//! the other cells are skipped; unlike sixel, the picture stays on screen until deleted, so
//! `tui` deletes the ids that leave the screen (`ids_on_screen`) and all of them at quit.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::num::NonZeroU16;

use image::DynamicImage;
use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::layout::{Rect, Size};

/// The start of every first-cell escape this module writes (`ids_on_screen` looks for it).
const MARK: &str = "\x1b_Ga=T,q=2,C=1,p=1,i=";
/// Base64 characters per chunk: the protocol's limit.
const CHUNK: usize = 4096;

#[derive(Clone)]
pub struct KittyDirect {
    id: u32,
    size: Size,
    escape: String,
}

impl KittyDirect {
    /// Encodes `image`, already sized to `size` cells, as a transmit-and-place escape.
    pub fn new(image: &DynamicImage, size: Size, id: u32) -> KittyDirect {
        let rgb = image.to_rgb8();
        let payload = base64(rgb.as_raw());
        let mut escape = String::with_capacity(payload.len() + payload.len() / CHUNK * 16 + 96);
        let chunks: Vec<&str> = payload
            .as_bytes()
            .chunks(CHUNK)
            // Base64 is ASCII, so every chunk is valid UTF-8.
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let more = u8::from(i + 1 < chunks.len());
            if i == 0 {
                // C=1: the cursor stays put; c/r: scaled to exactly these cells.
                let _ = write!(
                    escape,
                    "{MARK}{id},f=24,s={},v={},c={},r={},m={more};{chunk}\x1b\\",
                    rgb.width(),
                    rgb.height(),
                    size.width,
                    size.height
                );
            } else {
                let _ = write!(escape, "\x1b_Gm={more};{chunk}\x1b\\");
            }
        }
        KittyDirect { id, size, escape }
    }

    pub fn size(&self) -> Size {
        self.size
    }

    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        if self.size.width > area.width || self.size.height > area.height {
            return;
        }
        let one = CellDiffOption::ForcedWidth(NonZeroU16::MIN);
        for y in area.y..area.y + self.size.height {
            for x in area.x..area.x + self.size.width {
                if let Some(cell) = buf.cell_mut((x, y)) {
                    if x == area.x && y == area.y {
                        cell.set_symbol(&self.escape).set_diff_option(one);
                    } else {
                        cell.set_diff_option(CellDiffOption::Skip);
                    }
                }
            }
        }
    }
}

/// The escape that deletes picture `id`: its placements and its data.
pub fn delete(id: u32) -> String {
    format!("\x1b_Ga=d,d=I,q=2,i={id}\x1b\\")
}

/// Ids of the direct-placed pictures drawn in `buf`.
pub fn ids_on_screen(buf: &Buffer) -> BTreeSet<u32> {
    buf.content()
        .iter()
        .filter_map(|cell| {
            let rest = cell.symbol().strip_prefix(MARK)?;
            let digits = rest.split(',').next()?;
            digits.parse().ok()
        })
        .collect()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn one_escape_in_the_first_cell_and_the_rest_skipped() {
        let img = crate::graphics::flat_image(60, 40, [255, 0, 0]);
        let k = KittyDirect::new(&img, Size::new(6, 2), 4242);
        // 60×40×3 bytes = 9600 base64 characters: three chunks, the last with m=0.
        assert_eq!(k.escape.matches("\x1b_G").count(), 3);
        assert!(
            k.escape
                .starts_with("\x1b_Ga=T,q=2,C=1,p=1,i=4242,f=24,s=60,v=40,c=6,r=2,m=1;")
        );
        assert!(k.escape.contains("\x1b_Gm=0;"));
        let area = Rect::new(0, 0, 10, 4);
        let mut buf = Buffer::empty(area);
        k.render(Rect::new(2, 1, 8, 3), &mut buf);
        assert_eq!(buf[(2, 1)].symbol(), k.escape);
        assert_eq!(buf[(3, 1)].diff_option, CellDiffOption::Skip);
        assert_eq!(buf[(7, 2)].diff_option, CellDiffOption::Skip);
        assert_eq!(buf[(8, 2)].diff_option, CellDiffOption::None);
        assert_eq!(ids_on_screen(&buf), BTreeSet::from([4242]));
        assert_eq!(ids_on_screen(&Buffer::empty(area)), BTreeSet::new());
        assert_eq!(delete(7), "\x1b_Ga=d,d=I,q=2,i=7\x1b\\");
    }
}
