//! Checking and decoding images safely: accepted formats, size limits, extension matching,
//! and decoding under `image` limits so a decompression bomb or a truncated file is refused
//! with a reason instead of exhausting memory or panicking.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// Largest width or height accepted.
pub const MAX_SIDE: u32 = 16_384;
/// Largest pixel count accepted (a 12 MP photo is fine, a 1-gigapixel bomb is not).
pub const MAX_PIXELS: u64 = 80_000_000;
/// Memory a single decode may allocate.
pub const MAX_DECODE_ALLOC: u64 = 512 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRejection {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} but the limit is {limit} (raise it with --max-image-bytes)", size = mib(*.size), limit = mib(*.limit))]
    TooBig { size: u64, limit: u64 },
    #[error("not a JPEG, PNG, GIF or WebP image")]
    UnknownFormat,
    #[error("{0} images are not accepted; use JPEG, PNG, GIF or WebP")]
    UnsupportedFormat(String),
    #[error("the name ends in .{ext} but the content is {actual}; rename it to .{expected}")]
    WrongExtension {
        ext: String,
        actual: String,
        expected: String,
    },
    #[error(
        "{width}×{height} pixels is too large (at most {MAX_SIDE} a side and {MAX_PIXELS} pixels): possibly a decompression bomb"
    )]
    TooManyPixels { width: u32, height: u32 },
    #[error("cannot decode: {0}")]
    Corrupt(String),
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// What an accepted image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

pub fn content_type(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
        ImageFormat::Gif => "image/gif",
        ImageFormat::WebP => "image/webp",
        _ => "application/octet-stream",
    }
}

fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::Gif => "GIF",
        ImageFormat::WebP => "WebP",
        _ => "another format",
    }
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_DECODE_ALLOC);
    l
}

fn sniff(bytes: &[u8]) -> Result<ImageFormat, ImageRejection> {
    if bytes.is_empty() {
        return Err(ImageRejection::Empty);
    }
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP)) => {
            Ok(f)
        }
        Ok(other) => Err(ImageRejection::UnsupportedFormat(format!("{other:?}"))),
        Err(_) => Err(ImageRejection::UnknownFormat),
    }
}

fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut r = ImageReader::with_format(Cursor::new(bytes), format);
    r.limits(limits());
    r
}

fn check_dimensions(bytes: &[u8], format: ImageFormat) -> Result<(u32, u32), ImageRejection> {
    // Reading the header allocates no pixels, so do it without limits to name the size.
    let mut header = ImageReader::with_format(Cursor::new(bytes), format);
    header.no_limits();
    let (width, height) = header
        .into_dimensions()
        .map_err(|e| ImageRejection::Corrupt(e.to_string()))?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageRejection::TooManyPixels { width, height });
    }
    Ok((width, height))
}

fn decode(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, ImageRejection> {
    check_dimensions(bytes, format)?;
    reader(bytes, format).decode().map_err(|e| match e {
        image::ImageError::Limits(l) => {
            ImageRejection::Corrupt(format!("too large to decode safely ({l})"))
        }
        other => ImageRejection::Corrupt(other.to_string()),
    })
}

/// Checks a file before upload: size, format, extension, and a full decode.
pub fn validate(name: &str, bytes: &[u8], max_bytes: u64) -> Result<ImageInfo, ImageRejection> {
    let size = bytes.len() as u64;
    if size > max_bytes {
        return Err(ImageRejection::TooBig {
            size,
            limit: max_bytes,
        });
    }
    let format = sniff(bytes)?;
    let (_, ext) = crate::domain::names::split_extension(name);
    let ext_lower = ext.to_ascii_lowercase();
    let matches = match ImageFormat::from_extension(&ext_lower) {
        Some(f) => f == format,
        None => false,
    };
    if !matches {
        return Err(ImageRejection::WrongExtension {
            ext: if ext.is_empty() {
                "(nothing)".into()
            } else {
                ext.to_string()
            },
            actual: format_name(format).into(),
            expected: format
                .extensions_str()
                .first()
                .copied()
                .unwrap_or("img")
                .into(),
        });
    }
    let img = decode(bytes, format)?;
    Ok(ImageInfo {
        format,
        width: img.width(),
        height: img.height(),
    })
}

/// Decodes an image from the store for display, downscaled so its longer side is at most
/// `max_side`: what is kept in memory stays bounded whatever the source. JPEGs (most
/// photos) are decoded at 1/2, 1/4 or 1/8 scale in the DCT domain when that is still at
/// least `max_side`, so a 12-megapixel photo never exists in memory at full size.
pub fn decode_for_display(bytes: &[u8], max_side: u32) -> Result<DynamicImage, String> {
    let format = sniff(bytes).map_err(|e| e.to_string())?;
    let (width, height) = check_dimensions(bytes, format).map_err(|e| e.to_string())?;
    let scaled = match format {
        ImageFormat::Jpeg if width.max(height) >= max_side * 3 / 2 => {
            decode_jpeg_scaled(bytes, width, height, max_side)
        }
        _ => None,
    };
    let img = match scaled {
        Some(img) => img,
        None => decode(bytes, format).map_err(|e| e.to_string())?,
    };
    Ok(fit_within(img, max_side))
}

/// Shrinks to fit `max_side`: area averaging for big reductions (no large float buffers),
/// a triangle filter for small ones.
fn fit_within(img: DynamicImage, max_side: u32) -> DynamicImage {
    if img.width() <= max_side && img.height() <= max_side {
        img
    } else if img.width().max(img.height()) >= max_side * 2 {
        img.thumbnail(max_side, max_side)
    } else {
        img.resize(max_side, max_side, image::imageops::FilterType::Triangle)
    }
}

/// `None` when this decoder cannot do it; the caller then decodes at full size.
fn decode_jpeg_scaled(
    bytes: &[u8],
    width: u32,
    height: u32,
    max_side: u32,
) -> Option<DynamicImage> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(MAX_DECODE_ALLOC as usize);
    // Ask for the smallest scale whose longer side still covers 3/4 of max_side: a little
    // under the limit looks the same on a terminal and halves the decode again.
    let ratio = f64::from(max_side) * 0.75 / f64::from(width.max(height));
    let want_w = (f64::from(width) * ratio).ceil().min(f64::from(u16::MAX)) as u16;
    let want_h = (f64::from(height) * ratio).ceil().min(f64::from(u16::MAX)) as u16;
    let (w, h) = decoder.scale(want_w, want_h).ok()?;
    let pixels = decoder.decode().ok()?;
    let info = decoder.info()?;
    let (w, h) = (u32::from(w), u32::from(h));
    match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
        }
        _ => None, // CMYK and 16-bit: rare; the full decoder handles them
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb([200, 100, 50]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn accepts_a_good_png() {
        let info = validate("a.png", &png(8, 4), 1 << 20).unwrap();
        assert_eq!(
            (info.width, info.height, info.format),
            (8, 4, ImageFormat::Png)
        );
    }

    #[test]
    fn refuses_bad_files_with_reasons() {
        assert_eq!(validate("a.png", &[], 10), Err(ImageRejection::Empty));
        assert!(matches!(
            validate("a.png", &png(8, 8), 10),
            Err(ImageRejection::TooBig { .. })
        ));
        assert_eq!(
            validate("a.png", b"hello world", 100),
            Err(ImageRejection::UnknownFormat)
        );
        assert!(matches!(
            validate("a.jpg", &png(8, 8), 1 << 20),
            Err(ImageRejection::WrongExtension { .. })
        ));
        let truncated = &png(64, 64)[..40];
        assert!(matches!(
            validate("a.png", truncated, 1 << 20),
            Err(ImageRejection::Corrupt(_))
        ));
    }

    #[test]
    fn refuses_a_decompression_bomb() {
        // A valid PNG header claiming 100000×100000 pixels.
        let mut bomb = png(1, 1);
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let e = validate("bomb.png", &bomb, 1 << 20).unwrap_err();
        assert!(
            matches!(
                e,
                ImageRejection::TooManyPixels { .. } | ImageRejection::Corrupt(_)
            ),
            "{e}"
        );
        assert!(decode_for_display(&bomb, 512).is_err());
    }

    #[test]
    fn big_jpegs_decode_scaled_and_fit() {
        let img = image::RgbImage::from_fn(2400, 1600, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut jpeg = Cursor::new(Vec::new());
        img.write_to(&mut jpeg, ImageFormat::Jpeg).unwrap();
        let shown = decode_for_display(jpeg.get_ref(), 512).unwrap();
        assert_eq!((shown.width(), shown.height()), (512, 341));
        // 1/4 scale (600 px) covers 3/4 of 512; 1/8 (300 px) would not.
        assert!(
            decode_jpeg_scaled(jpeg.get_ref(), 2400, 1600, 512).is_some_and(|i| i.width() == 600)
        );
    }

    #[test]
    fn display_decode_downscales() {
        let img = decode_for_display(&png(400, 200), 100).unwrap();
        assert_eq!((img.width(), img.height()), (100, 50));
    }
}
