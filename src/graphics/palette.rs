//! Colours for terminals without 24-bit colour: the nearest entry of the xterm 256-colour
//! palette or of the 16 basic colours, and colour maps for dithering a picture into them.
//! A photo mapped pixel by pixel onto 16 colours is a blotch; dithered it stays recognisable.

use ratatui::style::Color;

use super::ColourDepth;

/// xterm's default RGB values of the 16 basic colours (what most terminals start with).
pub const BASIC16: [[u8; 3]; 16] = [
    [0, 0, 0],
    [205, 0, 0],
    [0, 205, 0],
    [205, 205, 0],
    [0, 0, 238],
    [205, 0, 205],
    [0, 205, 205],
    [229, 229, 229],
    [127, 127, 127],
    [255, 0, 0],
    [0, 255, 0],
    [255, 255, 0],
    [92, 92, 255],
    [255, 0, 255],
    [0, 255, 255],
    [255, 255, 255],
];

/// The six levels of each channel in the 6×6×6 colour cube (indices 16–231).
const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The RGB value of entry `index` of the xterm 256-colour palette.
pub fn rgb_of_index(index: u8) -> [u8; 3] {
    match index {
        0..=15 => BASIC16[usize::from(index)],
        16..=231 => {
            let i = index - 16;
            [
                CUBE[usize::from(i / 36)],
                CUBE[usize::from(i / 6 % 6)],
                CUBE[usize::from(i % 6)],
            ]
        }
        232..=255 => {
            let v = 8 + 10 * (index - 232);
            [v, v, v]
        }
    }
}

/// A distance that weighs the channels roughly as the eye does ("redmean").
fn distance(a: [u8; 3], b: [u8; 3]) -> u32 {
    let rmean = (u32::from(a[0]) + u32::from(b[0])) / 2;
    let d = |i: usize| (i32::from(a[i]) - i32::from(b[i])).unsigned_abs();
    let (dr, dg, db) = (d(0), d(1), d(2));
    (((512 + rmean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - rmean) * db * db) >> 8)
}

fn nearest_cube_level(v: u8) -> usize {
    // Midpoints between the cube levels: 0|47|115|155|195|235|255.
    match v {
        0..=47 => 0,
        48..=114 => 1,
        115..=154 => 2,
        155..=194 => 3,
        195..=234 => 4,
        _ => 5,
    }
}

/// The nearest entry of the 256-colour palette, among the cube and the grey ramp
/// (16–255; the first 16 differ between terminals, so they are not used for pictures).
pub fn nearest_256(rgb: [u8; 3]) -> u8 {
    let [r, g, b] = rgb.map(nearest_cube_level);
    let cube = 16 + 36 * r + 6 * g + b;
    let average = (u32::from(rgb[0]) + u32::from(rgb[1]) + u32::from(rgb[2])) / 3;
    let grey_step = (average.saturating_sub(3) / 10).min(23);
    let grey = 232 + grey_step as usize;
    // Both candidates fit in a u8: cube ≤ 231, grey ≤ 255.
    let (cube, grey) = (cube as u8, grey as u8);
    if distance(rgb, rgb_of_index(grey)) < distance(rgb, rgb_of_index(cube)) {
        grey
    } else {
        cube
    }
}

/// The nearest of the 16 basic colours.
pub fn nearest_16(rgb: [u8; 3]) -> u8 {
    (0u8..16)
        .min_by_key(|&i| distance(rgb, BASIC16[usize::from(i)]))
        .unwrap_or(0)
}

/// `color` as the terminal can show it at `depth`: 24-bit colours become palette indices.
/// Named and indexed colours pass unchanged, except indices above 15 on a 16-colour terminal.
pub fn limit(color: Color, depth: ColourDepth) -> Color {
    match (depth, color) {
        (ColourDepth::TrueColor, c) => c,
        (ColourDepth::Palette256, Color::Rgb(r, g, b)) => Color::Indexed(nearest_256([r, g, b])),
        (ColourDepth::Basic16, Color::Rgb(r, g, b)) => Color::Indexed(nearest_16([r, g, b])),
        (ColourDepth::Basic16, Color::Indexed(i)) if i > 15 => {
            Color::Indexed(nearest_16(rgb_of_index(i)))
        }
        (_, c) => c,
    }
}

/// The nearest colour `depth` can show, as RGB.
pub fn nearest_rgb(rgb: [u8; 3], depth: ColourDepth) -> [u8; 3] {
    match depth {
        ColourDepth::TrueColor => rgb,
        ColourDepth::Palette256 => rgb_of_index(nearest_256(rgb)),
        ColourDepth::Basic16 => BASIC16[usize::from(nearest_16(rgb))],
    }
}

/// How much of each pixel's error is passed on when dithering: all of it keeps the average
/// colour but, at a few pixels per photo feature, turns shapes into speckle on 16 colours;
/// part of it keeps shapes and still shades (judged on photos in xterm and GNU screen).
fn dither_strength(depth: ColourDepth) -> f32 {
    match depth {
        ColourDepth::TrueColor => 0.0,
        ColourDepth::Palette256 => 0.75,
        ColourDepth::Basic16 => 0.5,
    }
}

/// Reduces `image` to the colours of `depth`, dithered (Floyd–Steinberg with the error
/// kept in floats, damped by `dither_strength`).
pub fn reduce(image: &mut image::RgbImage, depth: ColourDepth) {
    if depth == ColourDepth::TrueColor {
        return;
    }
    let strength = dither_strength(depth);
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut error = vec![[0f32; 3]; w * (h + 1) + 1];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            // Both are below the image's dimensions, which are u32.
            let pixel = image.get_pixel_mut(x as u32, y as u32);
            // The error is kept even beyond 0–255 (bounded, so it cannot run away): what
            // a clamp drops would shift the area's average colour.
            let wanted: [f32; 3] =
                std::array::from_fn(|c| (f32::from(pixel.0[c]) + error[i][c]).clamp(-255.0, 510.0));
            let shown = nearest_rgb(wanted.map(|v| v.clamp(0.0, 255.0).round() as u8), depth);
            pixel.0 = shown;
            let e: [f32; 3] = std::array::from_fn(|c| (wanted[c] - f32::from(shown[c])) * strength);
            let mut spread = |j: usize, weight: f32| {
                for c in 0..3 {
                    error[j][c] += e[c] * weight;
                }
            };
            if x + 1 < w {
                spread(i + 1, 7.0 / 16.0);
                spread(i + w + 1, 1.0 / 16.0);
            }
            if x > 0 {
                spread(i + w - 1, 3.0 / 16.0);
            }
            spread(i + w, 5.0 / 16.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    #[test]
    fn palette_entries_map_to_themselves() {
        for i in 16..=255u8 {
            let rgb = rgb_of_index(i);
            assert_eq!(rgb_of_index(nearest_256(rgb)), rgb, "index {i}");
        }
        for (i, rgb) in BASIC16.iter().enumerate() {
            assert_eq!(usize::from(nearest_16(*rgb)), i);
        }
    }

    #[test]
    fn nearest_is_near() {
        assert_eq!(nearest_256([255, 0, 0]), 196);
        assert_eq!(nearest_256([28, 28, 32]), 234);
        assert_eq!(nearest_256([128, 128, 128]), 244);
        assert_eq!(nearest_16([220, 30, 30]), 1);
        assert_eq!(nearest_16([250, 250, 90]), 11);
        assert_eq!(nearest_16([28, 28, 32]), 0);
    }

    #[test]
    fn limit_keeps_what_the_terminal_has() {
        let c = Color::Rgb(200, 40, 40);
        assert_eq!(limit(c, ColourDepth::TrueColor), c);
        assert!(matches!(limit(c, ColourDepth::Palette256), Color::Indexed(i) if i >= 16));
        assert_eq!(limit(c, ColourDepth::Basic16), Color::Indexed(1));
        assert_eq!(limit(Color::Yellow, ColourDepth::Basic16), Color::Yellow);
        assert_eq!(
            limit(Color::Indexed(196), ColourDepth::Basic16),
            Color::Indexed(9)
        );
    }

    #[test]
    fn dithering_shades_with_palette_colours_only() {
        let colour = [150u8, 90, 40];
        for (depth, tolerance) in [
            (ColourDepth::Palette256, 12.0),
            (ColourDepth::Basic16, 60.0),
        ] {
            let mut img = image::RgbImage::from_pixel(40, 40, Rgb(colour));
            reduce(&mut img, depth);
            let n = f64::from(img.width() * img.height());
            for (c, want) in colour.iter().enumerate() {
                let mean: f64 = img.pixels().map(|p| f64::from(p.0[c])).sum::<f64>() / n;
                assert!(
                    (mean - f64::from(*want)).abs() < tolerance,
                    "{depth:?} channel {c}: {mean} vs {want}"
                );
            }
            for p in img.pixels() {
                assert_eq!(
                    nearest_rgb(p.0, depth),
                    p.0,
                    "every pixel is a palette colour"
                );
            }
        }
        let mut strip = image::RgbImage::from_pixel(1, 5, Rgb(colour));
        reduce(&mut strip, ColourDepth::Basic16);
    }
}
