//! Generates the project's sample images: ten hot dogs and ten things that are not.
//!
//! Every subject is built from signed-distance shapes (ellipse, capsule, polygon,
//! stroked polyline, ...), so each pixel gets an exact coverage value and edges are
//! anti-aliased without supersampling. The only "randomness" is a fixed-seed
//! xorshift generator, so the output is byte-for-byte identical on every run.
//!
//! ```text
//! cargo run --release --example gen_assets [OUT_DIR]   # OUT_DIR defaults to `assets`
//! ```

use std::error::Error;
use std::f32::consts::TAU;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::ops::{Add, Mul, Sub};
use std::path::Path;
use std::rc::Rc;

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};

const W: u32 = 480;
const H: u32 = 360;
const JPEG_QUALITY: u8 = 85;

// ---------------------------------------------------------------------------
// Small maths: points, colours, a deterministic PRNG
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct V2 {
    x: f32,
    y: f32,
}

const fn v2(x: f32, y: f32) -> V2 {
    V2 { x, y }
}

impl Add for V2 {
    type Output = V2;
    fn add(self, o: V2) -> V2 {
        v2(self.x + o.x, self.y + o.y)
    }
}

impl Sub for V2 {
    type Output = V2;
    fn sub(self, o: V2) -> V2 {
        v2(self.x - o.x, self.y - o.y)
    }
}

impl Mul<f32> for V2 {
    type Output = V2;
    fn mul(self, k: f32) -> V2 {
        v2(self.x * k, self.y * k)
    }
}

impl V2 {
    fn dot(self, o: V2) -> f32 {
        self.x * o.x + self.y * o.y
    }
    fn len(self) -> f32 {
        self.dot(self).sqrt()
    }
    fn norm(self) -> V2 {
        let l = self.len();
        if l > 0.0 { self * (1.0 / l) } else { self }
    }
    /// Rotate by `a` radians (clockwise on screen, since y points down).
    fn rot(self, a: f32) -> V2 {
        let (s, c) = a.sin_cos();
        v2(self.x * c - self.y * s, self.x * s + self.y * c)
    }
    /// Perpendicular, pointing to the left of the direction of travel.
    fn perp(self) -> V2 {
        v2(self.y, -self.x)
    }
    fn min(self, o: V2) -> V2 {
        v2(self.x.min(o.x), self.y.min(o.y))
    }
    fn max(self, o: V2) -> V2 {
        v2(self.x.max(o.x), self.y.max(o.y))
    }
}

/// Unit vector at `deg` degrees (0 = pointing right, 90 = pointing down).
fn dir(deg: f32) -> V2 {
    let a = deg.to_radians();
    v2(a.cos(), a.sin())
}

type Color = [f32; 3];

const BLACK: Color = [0.0, 0.0, 0.0];
const WHITE: Color = [255.0, 255.0, 255.0];

const fn rgb(r: u8, g: u8, b: u8) -> Color {
    [r as f32, g as f32, b as f32]
}

fn mix(a: Color, b: Color, t: f32) -> Color {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// xorshift64* with a fixed seed per image: the only source of variation.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
}

// ---------------------------------------------------------------------------
// Shapes: a signed distance function (negative inside) plus a bounding box
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct Shape {
    sdf: Rc<dyn Fn(V2) -> f32>,
    lo: V2,
    hi: V2,
}

impl Shape {
    fn new(lo: V2, hi: V2, sdf: impl Fn(V2) -> f32 + 'static) -> Self {
        Shape {
            sdf: Rc::new(sdf),
            lo,
            hi,
        }
    }
    fn dist(&self, p: V2) -> f32 {
        (self.sdf)(p)
    }
    fn union(self, other: Shape) -> Shape {
        let (a, b) = (self.sdf, other.sdf);
        Shape::new(self.lo.min(other.lo), self.hi.max(other.hi), move |p| {
            a(p).min(b(p))
        })
    }
    /// Union with a rounded blend of radius `k` where the two shapes meet.
    fn smooth_union(self, other: Shape, k: f32) -> Shape {
        let (a, b) = (self.sdf, other.sdf);
        let pad = v2(k, k);
        Shape::new(
            self.lo.min(other.lo) - pad,
            self.hi.max(other.hi) + pad,
            move |p| {
                let (da, db) = (a(p), b(p));
                let h = (0.5 + 0.5 * (db - da) / k).clamp(0.0, 1.0);
                db + (da - db) * h - k * h * (1.0 - h)
            },
        )
    }
    fn intersect(self, other: Shape) -> Shape {
        let (a, b) = (self.sdf, other.sdf);
        Shape::new(self.lo.max(other.lo), self.hi.min(other.hi), move |p| {
            a(p).max(b(p))
        })
    }
    fn minus(self, other: Shape) -> Shape {
        let (a, b) = (self.sdf, other.sdf);
        Shape::new(self.lo, self.hi, move |p| a(p).max(-b(p)))
    }
    /// Grow the outline outwards by `d` pixels (negative shrinks it).
    fn grow(&self, d: f32) -> Shape {
        let a = Rc::clone(&self.sdf);
        let pad = v2(d.max(0.0), d.max(0.0));
        Shape::new(self.lo - pad, self.hi + pad, move |p| a(p) - d)
    }
    fn translate(self, d: V2) -> Shape {
        let a = self.sdf;
        Shape::new(self.lo + d, self.hi + d, move |p| a(p - d))
    }
}

fn circle(c: V2, r: f32) -> Shape {
    Shape::new(c - v2(r, r), c + v2(r, r), move |p| (p - c).len() - r)
}

/// Ellipse with radii `rx`, `ry`, rotated by `deg` degrees (approximate distance).
fn ellipse(c: V2, rx: f32, ry: f32, deg: f32) -> Shape {
    let m = rx.max(ry);
    let a = deg.to_radians();
    Shape::new(c - v2(m, m), c + v2(m, m), move |p| {
        let q = (p - c).rot(-a);
        let k0 = v2(q.x / rx, q.y / ry).len();
        let k1 = v2(q.x / (rx * rx), q.y / (ry * ry)).len();
        if k1 < 1e-6 {
            -rx.min(ry)
        } else {
            k0 * (k0 - 1.0) / k1
        }
    })
}

fn segment_dist(p: V2, a: V2, b: V2) -> f32 {
    let (pa, ba) = (p - a, b - a);
    let denom = ba.dot(ba);
    let h = if denom > 0.0 {
        (pa.dot(ba) / denom).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (pa - ba * h).len()
}

/// Stadium / pill shape: all points within `r` of the segment `a`-`b`.
fn capsule(a: V2, b: V2, r: f32) -> Shape {
    let pad = v2(r, r);
    Shape::new(a.min(b) - pad, a.max(b) + pad, move |p| {
        segment_dist(p, a, b) - r
    })
}

/// A capsule whose radius tapers from `ra` at `a` to `rb` at `b` (carrots, stems).
fn tapered(a: V2, b: V2, ra: f32, rb: f32) -> Shape {
    let pad = v2(ra.max(rb), ra.max(rb));
    let h = (b - a).len();
    let axis = (b - a).norm();
    let side = axis.perp();
    let k = (ra - rb) / h;
    let m = (1.0 - k * k).max(0.0).sqrt();
    Shape::new(a.min(b) - pad, a.max(b) + pad, move |p| {
        let q = p - a;
        let (x, y) = (q.dot(side).abs(), q.dot(axis));
        let along = -k * x + m * y;
        if along < 0.0 {
            v2(x, y).len() - ra
        } else if along > m * h {
            v2(x, y - h).len() - rb
        } else {
            m * x + k * y - ra
        }
    })
}

/// Rectangle with half-size `half` and corner radius `r`, rotated by `deg` degrees.
fn rounded_rect(c: V2, half: V2, r: f32, deg: f32) -> Shape {
    let m = half.len();
    let a = deg.to_radians();
    Shape::new(c - v2(m, m), c + v2(m, m), move |p| {
        let q = (p - c).rot(-a);
        let d = v2(q.x.abs() - half.x + r, q.y.abs() - half.y + r);
        d.max(v2(0.0, 0.0)).len() + d.x.max(d.y).min(0.0) - r
    })
}

/// Filled polygon (any simple polygon, either winding).
fn polygon(pts: Vec<V2>) -> Shape {
    let lo = pts.iter().fold(v2(f32::MAX, f32::MAX), |m, &p| m.min(p));
    let hi = pts.iter().fold(v2(f32::MIN, f32::MIN), |m, &p| m.max(p));
    Shape::new(lo, hi, move |p| {
        let n = pts.len();
        let mut d = f32::MAX;
        let mut inside = false;
        for i in 0..n {
            let (a, b) = (pts[i], pts[(i + n - 1) % n]);
            d = d.min(segment_dist(p, a, b));
            if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
                inside = !inside;
            }
        }
        if inside { -d } else { d }
    })
}

/// A polyline stroked with round caps and joins.
fn stroke(pts: Vec<V2>, half_width: f32) -> Shape {
    let pad = v2(half_width, half_width);
    let lo = pts.iter().fold(v2(f32::MAX, f32::MAX), |m, &p| m.min(p)) - pad;
    let hi = pts.iter().fold(v2(f32::MIN, f32::MIN), |m, &p| m.max(p)) + pad;
    Shape::new(lo, hi, move |p| {
        let d = pts
            .windows(2)
            .map(|s| segment_dist(p, s[0], s[1]))
            .fold(f32::MAX, f32::min);
        d - half_width
    })
}

/// Points of a sine wave running from `a` to `b`, swinging `amp` to either side.
fn sine_points(a: V2, b: V2, amp: f32, waves: f32, phase: f32) -> Vec<V2> {
    let side = (b - a).norm().perp();
    let n = (waves * 24.0).max(8.0) as usize;
    (0..=n)
        .map(|i| {
            let t = i as f32 / n as f32;
            a + (b - a) * t + side * (amp * (phase + TAU * waves * t).sin())
        })
        .collect()
}

/// Points on a circular arc, angles in degrees (0 = right, 90 = down).
fn arc_points(c: V2, r: f32, from_deg: f32, to_deg: f32, n: usize) -> Vec<V2> {
    (0..=n)
        .map(|i| c + dir(from_deg + (to_deg - from_deg) * i as f32 / n as f32) * r)
        .collect()
}

/// A pointed leaf (lens): the intersection of two circles through `base` and `tip`.
fn leaf(base: V2, tip: V2, width: f32) -> Shape {
    let half_chord = (tip - base).len() * 0.5;
    let sag = width * 0.5;
    let r = (half_chord * half_chord + sag * sag) / (2.0 * sag);
    let mid = (base + tip) * 0.5;
    let side = (tip - base).norm().perp() * (r - sag);
    circle(mid + side, r).intersect(circle(mid - side, r))
}

// ---------------------------------------------------------------------------
// Canvas: float RGB pixels, shapes blended in by their coverage
// ---------------------------------------------------------------------------

struct Canvas {
    px: Vec<Color>,
}

impl Canvas {
    /// A canvas whose every pixel is painted by `background`.
    fn new(background: impl Fn(V2) -> Color) -> Self {
        let px = (0..H)
            .flat_map(|y| (0..W).map(move |x| (x, y)))
            .map(|(x, y)| background(v2(x as f32 + 0.5, y as f32 + 0.5)))
            .collect();
        Canvas { px }
    }

    /// Blend `shape` in, coloured by `paint`. Coverage ramps over `feather` pixels
    /// across the edge: 1.0 gives a crisp anti-aliased edge, more gives a soft glow.
    fn draw(&mut self, shape: &Shape, paint: impl Fn(V2) -> Color, opacity: f32, feather: f32) {
        let pad = feather + 1.0;
        let x0 = (shape.lo.x - pad).floor().clamp(0.0, W as f32) as u32;
        let x1 = (shape.hi.x + pad).ceil().clamp(0.0, W as f32) as u32;
        let y0 = (shape.lo.y - pad).floor().clamp(0.0, H as f32) as u32;
        let y1 = (shape.hi.y + pad).ceil().clamp(0.0, H as f32) as u32;
        for y in y0..y1 {
            for x in x0..x1 {
                let p = v2(x as f32 + 0.5, y as f32 + 0.5);
                let cover = (0.5 - shape.dist(p) / feather).clamp(0.0, 1.0) * opacity;
                if cover > 0.0 {
                    let i = (y * W + x) as usize;
                    self.px[i] = mix(self.px[i], paint(p), cover);
                }
            }
        }
    }

    fn fill(&mut self, shape: &Shape, color: Color) {
        self.draw(shape, |_| color, 1.0, 1.0);
    }

    fn soft(&mut self, shape: &Shape, color: Color, opacity: f32, feather: f32) {
        self.draw(shape, |_| color, opacity, feather);
    }

    /// A rounded-looking solid: crisp `rim` colour at the edge blending over
    /// `rim_width` pixels into the `paint` gradient inside.
    fn shaded(&mut self, shape: &Shape, rim: Color, paint: impl Fn(V2) -> Color, rim_width: f32) {
        self.fill(shape, rim);
        self.draw(&shape.grow(-rim_width * 0.5), paint, 1.0, rim_width);
    }

    fn into_image(self) -> RgbImage {
        RgbImage::from_fn(W, H, |x, y| {
            let c = self.px[(y * W + x) as usize];
            Rgb(c.map(|v| v.round().clamp(0.0, 255.0) as u8))
        })
    }
}

// ---------------------------------------------------------------------------
// Backgrounds
// ---------------------------------------------------------------------------

fn solid(c: Color) -> impl Fn(V2) -> Color {
    move |_| c
}

/// Linear gradient from `a` to `b` along the direction `deg` (90 = top to bottom).
fn gradient(a: Color, b: Color, deg: f32) -> impl Fn(V2) -> Color {
    let d = dir(deg);
    let corners = [
        v2(0.0, 0.0),
        v2(W as f32, 0.0),
        v2(0.0, H as f32),
        v2(W as f32, H as f32),
    ];
    let lo = corners.iter().map(|c| c.dot(d)).fold(f32::MAX, f32::min);
    let hi = corners.iter().map(|c| c.dot(d)).fold(f32::MIN, f32::max);
    move |p| mix(a, b, (p.dot(d) - lo) / (hi - lo))
}

/// Spotlight: `inner` at `c`, fading to `outer` at distance `r`.
fn radial(c: V2, r: f32, inner: Color, outer: Color) -> impl Fn(V2) -> Color {
    move |p| mix(inner, outer, smoothstep(0.0, r, (p - c).len()))
}

/// Gingham tablecloth: stripes of `ink` over `paper` in both directions,
/// darker where they cross. Edges are box-filtered for anti-aliasing.
fn gingham(paper: Color, ink: Color, cell: f32) -> impl Fn(V2) -> Color {
    // Fraction of the pixel [p-0.5, p+0.5] lying inside the "ink" half of a cell.
    let band = move |v: f32| {
        let ink_upto = |t: f32| {
            let k = (t / (2.0 * cell)).floor();
            k * cell + (t - k * 2.0 * cell).min(cell)
        };
        ink_upto(v + 0.5) - ink_upto(v - 0.5)
    };
    move |p| {
        let (sx, sy) = (band(p.x), band(p.y));
        let half = mix(paper, ink, 0.45);
        let c = mix(paper, half, sx.max(sy));
        mix(c, ink, sx * sy)
    }
}

/// Wooden table: horizontal planks with a slow grain and dark gaps.
fn wood(base: Color, seed: u64) -> impl Fn(V2) -> Color {
    let plank = 72.0;
    let mut rng = Rng::new(seed);
    let planks: Vec<(f32, f32)> = (0..=(H as usize / 72 + 1))
        .map(|_| (rng.range(0.85, 1.1), rng.range(0.0, TAU)))
        .collect();
    move |p| {
        let row = (p.y / plank).floor().max(0.0) as usize;
        let (tone, phase) = planks[row.min(planks.len() - 1)];
        let grain = (p.x * 0.018 + (p.y * 0.09 + phase).sin() * 1.6 + phase).sin();
        let k = tone * (1.0 + 0.06 * grain);
        let c = base.map(|v| v * k);
        let gap = (p.y - (row as f32) * plank).min((row as f32 + 1.0) * plank - p.y);
        mix(rgb(60, 35, 20), c, smoothstep(0.5, 2.5, gap))
    }
}

/// A round plate with a rim, a slightly darker well and a soft drop shadow.
fn plate(cv: &mut Canvas, c: V2, r: f32) {
    cv.soft(&circle(c + v2(r * 0.04, r * 0.08), r), BLACK, 0.3, r * 0.18);
    cv.fill(&circle(c, r), rgb(226, 228, 232));
    cv.soft(&circle(c, r * 0.97), rgb(246, 247, 249), 1.0, r * 0.06);
    cv.soft(&circle(c, r * 0.72), rgb(232, 234, 238), 1.0, r * 0.08);
    cv.soft(&circle(c, r * 0.66), rgb(244, 245, 247), 1.0, r * 0.12);
}

// ---------------------------------------------------------------------------
// Hot dogs
// ---------------------------------------------------------------------------

struct HotDog {
    center: V2,
    /// Sausage length, tip to tip, in pixels.
    length: f32,
    /// 0 = horizontal; positive tilts clockwise.
    angle: f32,
    ketchup: bool,
}

fn hotdog(cv: &mut Canvas, hd: &HotDog) {
    let (c, l) = (hd.center, hd.length);
    let u = dir(hd.angle);
    // "Up" on the hot dog: where the light comes from.
    let up = u.perp();
    let r = 0.085 * l;
    let rb = 2.0 * r;
    let bun_half = 0.43 * l - rb;
    let sausage_half = 0.5 * l - r;
    let along = |t: f32| u * t;

    // Shadow on the table.
    let drop = v2(rb * 0.12, rb * 0.3);
    let shadow = capsule(c - along(bun_half) + drop, c + along(bun_half) + drop, rb);
    cv.soft(&shadow, BLACK, 0.32, rb * 0.55);

    // Bun: dark crust rim, rounded golden top, highlight, then the soft crumb opening.
    let bun = |shrink: f32, off: V2| {
        capsule(
            c - along(bun_half) + off,
            c + along(bun_half) + off,
            rb * shrink,
        )
    };
    cv.fill(&bun(1.0, v2(0.0, 0.0)), rgb(168, 100, 42));
    cv.soft(&bun(0.78, v2(0.0, 0.0)), rgb(214, 150, 72), 1.0, rb * 0.4);
    cv.soft(
        &bun(0.35, up * (rb * 0.38)),
        rgb(236, 186, 110),
        0.7,
        rb * 0.45,
    );
    let crumb_half = bun_half + rb * 0.62 - r * 1.45;
    let crumb = |rr: f32| capsule(c - along(crumb_half), c + along(crumb_half), rr);
    cv.soft(&crumb(r * 1.55), rgb(150, 92, 40), 0.55, 3.0);
    cv.draw(
        &crumb(r * 1.42),
        |p| {
            // Paler towards the sausage, like the soft inside of the bun.
            let d = segment_dist(p, c - along(crumb_half), c + along(crumb_half));
            mix(
                rgb(250, 232, 188),
                rgb(228, 184, 118),
                smoothstep(r * 0.8, r * 1.45, d),
            )
        },
        1.0,
        1.0,
    );

    // Sausage: dark skin edge, rounded body, shadow on the bun, glossy highlight.
    let (s0, s1) = (c - along(sausage_half), c + along(sausage_half));
    let below = up * (-r * 0.35);
    cv.soft(&capsule(s0 + below, s1 + below, r), BLACK, 0.35, r * 0.5);
    cv.fill(&capsule(s0, s1, r), rgb(112, 38, 22));
    cv.soft(
        &capsule(s0 + up * (r * 0.08), s1 + up * (r * 0.08), r * 0.74),
        rgb(176, 70, 40),
        1.0,
        r * 0.5,
    );
    let glint = up * (r * 0.45);
    cv.soft(
        &capsule(
            s0 + along(r * 0.4) + glint,
            s1 - along(r * 0.4) + glint,
            r * 0.12,
        ),
        rgb(242, 170, 130),
        0.65,
        r * 0.3,
    );

    // Condiments: a wavy ketchup line under the mustard squiggle.
    let (m0, m1) = (
        c - along(sausage_half - r * 0.3),
        c + along(sausage_half - r * 0.3),
    );
    let waves = 2.0 * sausage_half / (r * 1.7);
    if hd.ketchup {
        let line = sine_points(m0, m1, r * 0.3, waves * 0.55, 1.4);
        cv.soft(&stroke(line.clone(), r * 0.26), rgb(120, 10, 10), 0.6, 2.0);
        cv.fill(&stroke(line, r * 0.21), rgb(226, 36, 30));
    }
    let line = sine_points(m0, m1, r * 0.55, waves, 0.0);
    cv.soft(&stroke(line.clone(), r * 0.2), rgb(170, 120, 0), 0.7, 2.0);
    cv.fill(&stroke(line.clone(), r * 0.16), rgb(250, 206, 40));
    let shine: Vec<V2> = line.iter().map(|&p| p + up * (r * 0.05)).collect();
    cv.soft(&stroke(shine, r * 0.04), rgb(255, 245, 170), 0.6, 1.5);
}

fn hotdog_scene(n: usize) -> Canvas {
    let hd = |x: f32, y: f32, length: f32, angle: f32, ketchup: bool| HotDog {
        center: v2(x, y),
        length,
        angle,
        ketchup,
    };
    let (mut cv, dog) = match n {
        1 => (
            Canvas::new(solid(rgb(150, 200, 236))),
            hd(240.0, 182.0, 340.0, 0.0, false),
        ),
        2 => (
            Canvas::new(gingham(rgb(250, 248, 244), rgb(200, 30, 40), 32.0)),
            hd(240.0, 180.0, 310.0, -15.0, true),
        ),
        3 => {
            let mut cv = Canvas::new(gradient(rgb(252, 240, 214), rgb(240, 176, 140), 90.0));
            plate(&mut cv, v2(240.0, 180.0), 165.0);
            (cv, hd(240.0, 176.0, 280.0, 0.0, true))
        }
        4 => (
            Canvas::new(gradient(rgb(110, 200, 190), rgb(20, 80, 100), 35.0)),
            hd(170.0, 130.0, 210.0, 25.0, false),
        ),
        5 => (
            Canvas::new(wood(rgb(176, 122, 76), 5)),
            hd(245.0, 185.0, 400.0, 0.0, true),
        ),
        6 => (
            Canvas::new(gingham(rgb(248, 248, 250), rgb(40, 90, 190), 32.0)),
            hd(240.0, 180.0, 330.0, 35.0, false),
        ),
        7 => (
            Canvas::new(solid(rgb(44, 96, 66))),
            hd(262.0, 196.0, 350.0, -8.0, true),
        ),
        8 => {
            let mut cv = Canvas::new(radial(
                v2(240.0, 150.0),
                380.0,
                rgb(150, 150, 156),
                rgb(40, 40, 48),
            ));
            plate(&mut cv, v2(240.0, 180.0), 170.0);
            (cv, hd(240.0, 178.0, 270.0, 60.0, false))
        }
        9 => (
            Canvas::new(solid(rgb(246, 192, 204))),
            hd(176.0, 136.0, 240.0, 0.0, true),
        ),
        _ => (
            Canvas::new(gradient(rgb(120, 70, 160), rgb(24, 30, 80), 60.0)),
            hd(255.0, 185.0, 330.0, -35.0, true),
        ),
    };
    hotdog(&mut cv, &dog);
    cv
}

// ---------------------------------------------------------------------------
// Not hot dogs
// ---------------------------------------------------------------------------

/// Soft contact shadow under an object resting on the table.
fn ground_shadow(cv: &mut Canvas, c: V2, rx: f32, ry: f32) {
    cv.soft(&ellipse(c, rx, ry, 0.0), BLACK, 0.32, ry * 1.2);
}

/// A green leaf with a darker midrib.
fn green_leaf(cv: &mut Canvas, base: V2, tip: V2, width: f32) {
    cv.shaded(
        &leaf(base, tip, width),
        rgb(44, 126, 42),
        |_| rgb(86, 176, 64),
        width * 0.3,
    );
    cv.soft(
        &stroke(vec![base, base + (tip - base) * 0.85], 1.2),
        rgb(30, 96, 30),
        0.8,
        1.0,
    );
}

fn apple(cv: &mut Canvas) {
    let c = v2(240.0, 200.0);
    ground_shadow(cv, c + v2(10.0, 112.0), 120.0, 18.0);
    // Two broad shoulders over two smaller lobes at the bottom.
    let body = circle(c + v2(-42.0, -10.0), 88.0)
        .smooth_union(circle(c + v2(42.0, -10.0), 88.0), 24.0)
        .smooth_union(circle(c + v2(-34.0, 38.0), 72.0), 30.0)
        .smooth_union(circle(c + v2(34.0, 38.0), 72.0), 30.0);
    let light = c + v2(-50.0, -50.0);
    cv.shaded(
        &body,
        rgb(120, 12, 18),
        |p| {
            mix(
                rgb(236, 52, 44),
                rgb(150, 16, 22),
                smoothstep(10.0, 190.0, (p - light).len()),
            )
        },
        6.0,
    );
    cv.soft(
        &ellipse(c + v2(-55.0, -45.0), 26.0, 16.0, -40.0),
        WHITE,
        0.45,
        14.0,
    );
    let stem = vec![
        c + v2(0.0, -76.0),
        c + v2(3.0, -100.0),
        c + v2(12.0, -130.0),
    ];
    cv.fill(&stroke(stem, 5.0), rgb(96, 60, 30));
    green_leaf(cv, c + v2(8.0, -112.0), c + v2(80.0, -140.0), 34.0);
}

fn banana(cv: &mut Canvas) {
    // A crescent around an arc centre high above the picture, tapering to both ends.
    let o = v2(240.0, -45.0);
    let (rc, w0, tilt) = (270.0, 36.0, 10.0);
    let (th0, th1) = (-36.0_f32, 36.0_f32);
    let n = 60;
    let at = |th: f32, rr: f32| o + dir(90.0 + tilt - th) * rr;
    let width = |th: f32| w0 * (1.0 - (th / th1).powi(2)).max(0.0).powf(0.55) + 3.0;
    let ths: Vec<f32> = (0..=n)
        .map(|i| th0 + (th1 - th0) * i as f32 / n as f32)
        .collect();
    let mut pts: Vec<V2> = ths.iter().map(|&t| at(t, rc + width(t))).collect();
    pts.extend(ths.iter().rev().map(|&t| at(t, rc - width(t) * 0.8)));
    let outline = polygon(pts.clone());
    let shadow = polygon(pts).translate(v2(8.0, 16.0));
    cv.soft(&shadow, BLACK, 0.3, 14.0);
    cv.shaded(
        &outline,
        rgb(168, 128, 20),
        move |p| {
            let k = ((p - o).len() - rc) / w0;
            mix(
                rgb(255, 226, 70),
                rgb(214, 168, 24),
                smoothstep(-0.2, 1.0, k.abs()),
            )
        },
        5.0,
    );
    let ridge: Vec<V2> = ths[6..n - 4]
        .iter()
        .map(|&t| at(t, rc + width(t) * 0.35))
        .collect();
    cv.soft(&stroke(ridge, 1.5), rgb(190, 140, 20), 0.5, 3.0);
    // Stem at one end, dark tip at the other.
    let end = at(th0, rc);
    cv.fill(
        &tapered(end, end + dir(200.0 + tilt) * 36.0, 8.0, 6.0),
        rgb(120, 110, 40),
    );
    cv.fill(
        &circle(end + dir(200.0 + tilt) * 36.0, 6.5),
        rgb(70, 55, 25),
    );
    cv.fill(&circle(at(th1, rc), 5.0), rgb(70, 50, 25));
}

fn orange(cv: &mut Canvas) {
    let (c, r) = (v2(240.0, 190.0), 115.0);
    ground_shadow(cv, c + v2(12.0, r * 0.92), r * 0.95, 18.0);
    let light = c + v2(-45.0, -50.0);
    cv.draw(
        &circle(c, r),
        |p| {
            mix(
                rgb(255, 176, 60),
                rgb(214, 104, 8),
                smoothstep(0.0, 200.0, (p - light).len()),
            )
        },
        1.0,
        1.0,
    );
    // Dimpled peel.
    let mut rng = Rng::new(103);
    for _ in 0..260 {
        let p = c + dir(rng.range(0.0, 360.0)) * (r * rng.unit().sqrt() * 0.96);
        cv.soft(&circle(p, 1.6), rgb(190, 90, 0), 0.22, 1.5);
    }
    cv.soft(
        &ellipse(c + v2(-48.0, -52.0), 30.0, 18.0, -40.0),
        WHITE,
        0.4,
        18.0,
    );
    let top = c + v2(12.0, -r * 0.86);
    cv.fill(&circle(top, 7.0), rgb(90, 110, 30));
    green_leaf(cv, top, top + v2(70.0, -30.0), 30.0);
}

fn pear(cv: &mut Canvas) {
    let c = v2(240.0, 210.0);
    ground_shadow(cv, c + v2(10.0, 92.0), 95.0, 16.0);
    let body =
        circle(c + v2(0.0, 30.0), 80.0).smooth_union(circle(c + v2(-8.0, -75.0), 44.0), 55.0);
    let light = c + v2(-40.0, -30.0);
    cv.shaded(
        &body,
        rgb(130, 140, 30),
        |p| {
            mix(
                rgb(214, 218, 90),
                rgb(150, 160, 36),
                smoothstep(0.0, 180.0, (p - light).len()),
            )
        },
        6.0,
    );
    cv.soft(
        &ellipse(c + v2(42.0, 10.0), 22.0, 40.0, 10.0),
        rgb(226, 120, 60),
        0.16,
        40.0,
    );
    cv.soft(
        &ellipse(c + v2(-38.0, -10.0), 16.0, 30.0, 15.0),
        WHITE,
        0.35,
        16.0,
    );
    let stem = vec![
        c + v2(-8.0, -112.0),
        c + v2(-4.0, -135.0),
        c + v2(6.0, -156.0),
    ];
    cv.fill(&stroke(stem, 4.5), rgb(96, 64, 30));
    green_leaf(cv, c + v2(-4.0, -138.0), c + v2(-70.0, -160.0), 26.0);
}

fn grapes(cv: &mut Canvas) {
    let c = v2(240.0, 90.0);
    plate(cv, v2(240.0, 190.0), 168.0);
    let mut rng = Rng::new(105);
    let rows = [5usize, 4, 4, 3, 2, 1];
    let r = 26.0;
    // Stem first, so the grapes hang over it.
    let stem = vec![c + v2(0.0, -40.0), c + v2(4.0, -10.0), c + v2(0.0, 20.0)];
    cv.fill(&stroke(stem, 4.0), rgb(104, 80, 40));
    green_leaf(cv, c + v2(2.0, -30.0), c + v2(-90.0, -50.0), 44.0);
    for (i, &count) in rows.iter().enumerate() {
        for j in 0..count {
            let x = (j as f32 - (count as f32 - 1.0) * 0.5) * r * 1.8 + rng.range(-4.0, 4.0);
            let y = i as f32 * r * 1.45 + rng.range(-3.0, 3.0);
            let g = c + v2(x, y + 30.0);
            cv.soft(&circle(g + v2(3.0, 5.0), r), BLACK, 0.3, 8.0);
            cv.fill(&circle(g, r), rgb(58, 18, 66));
            let light = g + v2(-9.0, -10.0);
            cv.draw(
                &circle(g, r - 2.0),
                |p| {
                    mix(
                        rgb(150, 80, 170),
                        rgb(78, 28, 96),
                        smoothstep(0.0, r * 1.6, (p - light).len()),
                    )
                },
                1.0,
                3.0,
            );
            cv.soft(
                &ellipse(g + v2(-9.0, -11.0), 6.0, 4.0, -35.0),
                WHITE,
                0.55,
                4.0,
            );
        }
    }
}

fn watermelon(cv: &mut Canvas) {
    // A half-round slice, flat cut side up, slightly tilted.
    let (c, r, tilt) = (v2(240.0, 120.0), 200.0, 6.0);
    let half = |rr: f32| polygon(arc_points(c, rr, tilt, 180.0 + tilt, 72));
    cv.soft(&half(r).translate(v2(6.0, 14.0)), BLACK, 0.3, 16.0);
    cv.fill(&half(r), rgb(30, 96, 40));
    cv.fill(&half(r - 9.0), rgb(120, 190, 90));
    cv.fill(&half(r - 16.0), rgb(236, 244, 200));
    cv.draw(
        &half(r - 26.0),
        |p| {
            mix(
                rgb(236, 40, 56),
                rgb(250, 100, 96),
                smoothstep(20.0, 170.0, (p - c).len()),
            )
        },
        1.0,
        1.0,
    );
    let mut rng = Rng::new(106);
    for i in 0..13 {
        let a = tilt + 18.0 + i as f32 * 11.0 + rng.range(-3.0, 3.0);
        let rr = if i % 2 == 0 { 95.0 } else { 130.0 } + rng.range(-8.0, 8.0);
        let p = c + dir(a) * rr;
        cv.fill(&ellipse(p, 7.5, 4.2, a), rgb(28, 20, 18));
        cv.soft(&circle(p + v2(-1.5, -1.5), 1.5), WHITE, 0.5, 1.0);
    }
}

fn donut(cv: &mut Canvas) {
    let c = v2(240.0, 180.0);
    cv.soft(&circle(c + v2(8.0, 16.0), 124.0), BLACK, 0.3, 22.0);
    let dough = circle(c, 124.0).minus(circle(c, 40.0));
    cv.draw(
        &dough,
        |p| {
            let k = ((p - c).len() - 82.0).abs() / 42.0;
            mix(
                rgb(226, 164, 90),
                rgb(164, 100, 44),
                smoothstep(0.2, 1.0, k),
            )
        },
        1.0,
        1.0,
    );
    let wavy = move |p: V2| {
        let q = p - c;
        let (d, a) = (q.len(), q.y.atan2(q.x));
        let outer = 104.0 + 6.0 * (7.0 * a).sin() + 3.0 * (11.0 * a + 1.0).sin();
        let inner = 52.0 + 3.0 * (5.0 * a).sin();
        (d - outer).max(inner - d)
    };
    let icing = Shape::new(c - v2(115.0, 115.0), c + v2(115.0, 115.0), wavy);
    cv.fill(&icing, rgb(236, 110, 164));
    let light = c + v2(-50.0, -60.0);
    cv.draw(
        &icing.grow(-4.0),
        |p| {
            mix(
                rgb(255, 170, 205),
                rgb(236, 112, 166),
                smoothstep(0.0, 150.0, (p - light).len()),
            )
        },
        1.0,
        6.0,
    );
    let colours = [
        rgb(255, 255, 255),
        rgb(255, 220, 40),
        rgb(60, 160, 240),
        rgb(120, 210, 90),
        rgb(140, 70, 200),
    ];
    let mut rng = Rng::new(107);
    for i in 0..46 {
        let p = c + dir(rng.range(0.0, 360.0)) * rng.range(62.0, 94.0);
        let d = dir(rng.range(0.0, 180.0)) * 5.0;
        cv.fill(&capsule(p - d, p + d, 2.3), colours[i % colours.len()]);
    }
}

fn pizza(cv: &mut Canvas) {
    let (tip, r, tilt) = (v2(260.0, 340.0), 300.0, 8.0);
    let (a0, a1) = (-90.0 - 22.0 + tilt, -90.0 + 22.0 + tilt);
    let mut slice = vec![tip];
    slice.extend(arc_points(tip, r - 14.0, a0, a1, 40));
    cv.soft(
        &polygon(slice.clone()).translate(v2(6.0, 10.0)),
        BLACK,
        0.3,
        14.0,
    );
    let light = tip + dir(-90.0 + tilt) * 220.0;
    cv.shaded(
        &polygon(slice),
        rgb(224, 160, 60),
        |p| {
            mix(
                rgb(252, 214, 100),
                rgb(240, 168, 56),
                smoothstep(0.0, 240.0, (p - light).len()),
            )
        },
        5.0,
    );
    let crust = arc_points(tip, r - 14.0, a0 - 1.0, a1 + 1.0, 40);
    cv.fill(&stroke(crust.clone(), 18.0), rgb(176, 108, 44));
    let crust_top: Vec<V2> = crust.iter().map(|&p| p + v2(0.0, -4.0)).collect();
    cv.soft(&stroke(crust_top, 9.0), rgb(226, 166, 92), 1.0, 8.0);
    let mut rng = Rng::new(108);
    let spots = [
        (0.28, -10.0),
        (0.45, 8.0),
        (0.62, -12.0),
        (0.66, 12.0),
        (0.8, -1.0),
    ];
    for (t, off) in spots {
        let p = tip + dir(-90.0 + tilt + off) * (r * t);
        cv.soft(&circle(p + v2(2.0, 3.0), 21.0), rgb(120, 60, 20), 0.35, 6.0);
        cv.fill(&circle(p, 20.0), rgb(170, 36, 30));
        for _ in 0..4 {
            let q = p + dir(rng.range(0.0, 360.0)) * rng.range(0.0, 13.0);
            cv.soft(&circle(q, 2.5), rgb(120, 20, 20), 0.6, 2.0);
        }
    }
    green_leaf(cv, tip + v2(-20.0, -120.0), tip + v2(-2.0, -150.0), 14.0);
}

fn carrot(cv: &mut Canvas) {
    let (top, end) = (v2(130.0, 110.0), v2(410.0, 270.0));
    let axis = (end - top).norm();
    let side = axis.perp();
    let shadow = tapered(top, end, 36.0, 4.0).translate(v2(6.0, 14.0));
    cv.soft(&shadow, BLACK, 0.3, 14.0);
    // Greens fan out behind the top.
    for (i, deg) in [-38.0_f32, -18.0, 0.0, 16.0, 34.0].iter().enumerate() {
        let d = (axis * -1.0).rot(deg.to_radians());
        let len = 110.0 - (i as f32 - 2.0).abs() * 12.0;
        green_leaf(cv, top + d * 10.0, top + d * len, 16.0);
    }
    let body = tapered(top, end, 36.0, 4.0);
    cv.shaded(
        &body,
        rgb(196, 84, 14),
        move |p| {
            let k = (p - top).dot(side) / 36.0;
            mix(
                rgb(250, 150, 50),
                rgb(214, 96, 16),
                smoothstep(-0.6, 1.0, k.abs()),
            )
        },
        5.0,
    );
    // Growth rings: short dark grooves across the root.
    let total = (end - top).len();
    for (t, frac) in [
        (0.15, 0.6),
        (0.28, -0.5),
        (0.4, 0.55),
        (0.52, -0.45),
        (0.64, 0.5),
        (0.76, -0.4),
    ] {
        let p = top + axis * (total * t);
        let w = 36.0 * (1.0 - t) * frac;
        cv.soft(
            &stroke(vec![p, p + side * w], 1.3),
            rgb(160, 64, 10),
            0.7,
            1.5,
        );
    }
}

fn cup(cv: &mut Canvas) {
    let (c, half) = (v2(225.0, 195.0), v2(82.0, 92.0));
    // Lit from the left: brightest a little left of centre.
    let body_color = |p: V2| {
        let k = (p.x - c.x + 25.0) / half.x;
        mix(
            rgb(80, 160, 216),
            rgb(24, 80, 140),
            smoothstep(0.0, 1.3, k.abs()),
        )
    };
    // Saucer.
    cv.soft(
        &ellipse(c + v2(6.0, 98.0), 150.0, 34.0, 0.0),
        BLACK,
        0.3,
        16.0,
    );
    cv.fill(
        &ellipse(c + v2(0.0, 92.0), 140.0, 30.0, 0.0),
        rgb(214, 216, 222),
    );
    cv.soft(
        &ellipse(c + v2(0.0, 88.0), 120.0, 22.0, 0.0),
        rgb(244, 245, 248),
        1.0,
        8.0,
    );
    // Handle, then the body over it.
    let handle =
        circle(c + v2(half.x + 4.0, -5.0), 50.0).minus(circle(c + v2(half.x + 4.0, -5.0), 30.0));
    cv.fill(&handle, rgb(30, 90, 150));
    // A cylinder seen from slightly above: straight sides, elliptical bottom.
    let (top_y, bottom_y) = (c.y - half.y, c.y + half.y - 18.0);
    let side_walls = rounded_rect(
        v2(c.x, (top_y + bottom_y) * 0.5),
        v2(half.x, (bottom_y - top_y) * 0.5),
        1.0,
        0.0,
    );
    let body = side_walls.union(ellipse(v2(c.x, bottom_y), half.x, 18.0, 0.0));
    cv.draw(&body, body_color, 1.0, 1.0);
    // Rim and coffee.
    let rim = c + v2(0.0, -half.y);
    cv.fill(&ellipse(rim, half.x, 18.0, 0.0), rgb(110, 180, 230));
    cv.fill(
        &ellipse(rim + v2(0.0, 2.0), half.x - 9.0, 13.0, 0.0),
        rgb(88, 52, 28),
    );
    cv.soft(
        &ellipse(rim + v2(-12.0, 0.0), 30.0, 4.0, 0.0),
        rgb(170, 120, 80),
        0.5,
        4.0,
    );
    cv.soft(
        &rounded_rect(c + v2(-48.0, 0.0), v2(7.0, 60.0), 6.0, 0.0),
        WHITE,
        0.35,
        8.0,
    );
    // Steam.
    for (x, phase) in [(-30.0, 0.0), (0.0, 2.0), (30.0, 4.0)] {
        let a = rim + v2(x, -22.0);
        let pts = sine_points(a, a + v2(0.0, -60.0), 7.0, 1.3, phase);
        cv.soft(&stroke(pts, 3.5), WHITE, 0.55, 4.0);
    }
}

fn other_scene(n: usize) -> Canvas {
    let (mut cv, subject): (Canvas, fn(&mut Canvas)) = match n {
        1 => (
            Canvas::new(gingham(rgb(250, 250, 246), rgb(40, 140, 70), 32.0)),
            apple,
        ),
        2 => (Canvas::new(solid(rgb(150, 200, 236))), banana),
        3 => (
            Canvas::new(gradient(rgb(190, 230, 236), rgb(70, 140, 160), 90.0)),
            orange,
        ),
        4 => (Canvas::new(wood(rgb(170, 118, 74), 4)), pear),
        5 => (Canvas::new(solid(rgb(236, 226, 206))), grapes),
        6 => (
            Canvas::new(radial(
                v2(240.0, 120.0),
                420.0,
                rgb(252, 246, 220),
                rgb(210, 190, 150),
            )),
            watermelon,
        ),
        7 => (Canvas::new(solid(rgb(178, 224, 206))), donut),
        8 => (
            Canvas::new(gingham(rgb(250, 248, 244), rgb(200, 30, 40), 32.0)),
            pizza,
        ),
        9 => (
            Canvas::new(gradient(rgb(245, 234, 212), rgb(214, 190, 150), 90.0)),
            carrot,
        ),
        _ => (
            Canvas::new(gradient(rgb(240, 200, 210), rgb(176, 160, 220), 20.0)),
            cup,
        ),
    };
    subject(&mut cv);
    cv
}

// ---------------------------------------------------------------------------

fn save_jpeg(cv: Canvas, path: &Path) -> Result<(), Box<dyn Error>> {
    let mut out = BufWriter::new(File::create(path)?);
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&cv.into_image())?;
    out.flush()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let out_dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "assets".to_string());
    let out_dir = Path::new(&out_dir);
    fs::create_dir_all(out_dir)?;
    for n in 1..=10 {
        save_jpeg(hotdog_scene(n), &out_dir.join(format!("hotdog-{n:02}.jpg")))?;
        save_jpeg(other_scene(n), &out_dir.join(format!("other-{n:02}.jpg")))?;
    }
    println!("wrote 20 images to {}", out_dir.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_have_sensible_distances() {
        let c = circle(v2(0.0, 0.0), 10.0);
        assert!((c.dist(v2(20.0, 0.0)) - 10.0).abs() < 1e-4);
        let sq = polygon(vec![
            v2(0.0, 0.0),
            v2(10.0, 0.0),
            v2(10.0, 10.0),
            v2(0.0, 10.0),
        ]);
        assert!((sq.dist(v2(5.0, 5.0)) + 5.0).abs() < 1e-4);
        assert!((sq.dist(v2(15.0, 5.0)) - 5.0).abs() < 1e-4);
        let t = tapered(v2(0.0, 0.0), v2(0.0, 100.0), 20.0, 5.0);
        assert!(t.dist(v2(0.0, 50.0)) < 0.0);
        assert!(t.dist(v2(0.0, -25.0)) > 0.0);
    }

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
    }
}
