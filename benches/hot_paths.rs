//! Micro-benchmarks of the hot paths (`cargo bench`): number parsing and summary, the
//! label-file parse + merge of a batch of answers, statistics over 10,000 label files in
//! memory, the quality figures (Dawid–Skene, agreement, labellers) over 100,000 images ×
//! 5 votes, and image decode + downscale + halfblocks encode of a 600×600 and a 4000×3000
//! photo. All inputs are generated here, deterministically, so runs compare.

use std::io::Cursor;
use std::sync::LazyLock;

use divan::{Bencher, black_box, counter::ItemsCount};
use hotdog_tui::domain::label_file::{Answer, LabelFile, Vote, append_answers};
use hotdog_tui::domain::numbers::{compute, parse_numbers};
use hotdog_tui::domain::stats::{ImageStats, totals};
use hotdog_tui::graphics::{ColourDepth, Renderer};
use hotdog_tui::service::image_check::decode_for_display;
use image::imageops::FilterType;
use ratatui::layout::Size;

/// What the TUI keeps of a photo (its `DISPLAY_MAX_SIDE`).
const DISPLAY_MAX_SIDE: u32 = 1024;

fn main() {
    divan::main();
}

/// A tiny deterministic generator, so inputs do not depend on a crate's seeding.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn answer(i: u64, rng: &mut XorShift) -> Answer {
    let vote = if rng.next().is_multiple_of(2) {
        Vote::HotDog
    } else {
        Vote::NotHotDog
    };
    Answer {
        kind: vote.into(),
        at: "2026-12-01T07:22:21Z".into(),
        labeller: format!("labeller-{}", rng.next() % 12),
        answer_id: format!("{:032x}", u128::from(i) << 64 | u128::from(rng.next())),
    }
}

fn label_file(lines: u64, seed: u64) -> Vec<u8> {
    let mut rng = XorShift(seed | 1);
    (0..lines)
        .flat_map(|i| answer(i, &mut rng).to_line().into_bytes())
        .collect()
}

mod numbers {
    use super::*;

    const INPUTS: [&str; 3] = [
        "1,12,55,4",
        "1, 12 55 4 99 1000 7 7 8 3",
        "18446744073709551615 18446744073709551615 18446744073709551614 0 1 2 3 4 5 6",
    ];

    #[divan::bench(args = INPUTS)]
    fn parse(input: &str) -> usize {
        parse_numbers(black_box(input)).map_or(0, |n| n.len())
    }

    /// Parse, summarise and format the result line: all the worker does with a body.
    #[divan::bench(args = INPUTS)]
    fn parse_summarise_format(input: &str) -> String {
        compute(black_box(input)).map_or_else(|e| e.to_string(), |s| s.to_string())
    }

    #[divan::bench]
    fn refuse_bad_input() -> String {
        compute(black_box("1, 2, -3")).map_or_else(|e| e.to_string(), |s| s.to_string())
    }
}

mod label_files {
    use super::*;

    static FILE_200: LazyLock<Vec<u8>> = LazyLock::new(|| label_file(200, 7));

    #[divan::bench]
    fn parse_200_lines() -> usize {
        LabelFile::parse(black_box(&FILE_200)).lines.len()
    }

    /// The worker's merge: parse a 200-line file, skip known ids, append the new answers.
    #[divan::bench(args = [1, 10, 40])]
    fn append_batch_onto_200_lines(bencher: Bencher, batch: u64) {
        let mut rng = XorShift(99);
        let new: Vec<Answer> = (0..batch).map(|i| answer(1_000 + i, &mut rng)).collect();
        bencher
            .counter(ItemsCount::new(batch))
            .bench(|| append_answers(black_box(&FILE_200), black_box(&new)).1);
    }
}

mod statistics {
    use super::*;

    /// 10,000 label files of 1 to 10 answers each, as the stats cache would fetch them.
    static FILES: LazyLock<Vec<(String, Vec<u8>)>> = LazyLock::new(|| {
        let mut rng = XorShift(3);
        (0..10_000u64)
            .map(|i| {
                let lines = 1 + rng.next() % 10;
                (format!("img-{i:05}.jpg"), label_file(lines, i + 1))
            })
            .collect()
    });

    /// Everything a cold refresh computes once the bytes are in hand.
    #[divan::bench(sample_count = 30)]
    fn parse_and_summarise_10000_files(bencher: Bencher) {
        let files = &*FILES;
        bencher.counter(ItemsCount::new(files.len())).bench(|| {
            let stats: Vec<ImageStats> = files
                .iter()
                .map(|(image, bytes)| ImageStats::from_file(image, &LabelFile::parse(bytes), 3))
                .collect();
            totals(&stats).votes
        });
    }

    /// What a warm refresh recomputes: only the totals over cached per-image figures.
    #[divan::bench(sample_count = 100)]
    fn totals_over_10000_images(bencher: Bencher) {
        let stats: Vec<ImageStats> = FILES
            .iter()
            .map(|(image, bytes)| ImageStats::from_file(image, &LabelFile::parse(bytes), 3))
            .collect();
        bencher.bench(|| totals(black_box(&stats)).votes);
    }
}

mod quality {
    use super::*;
    use hotdog_tui::domain::gold::GoldSet;
    use hotdog_tui::domain::label_file::ImageSummary;
    use hotdog_tui::domain::quality::assess;

    /// 100,000 label files of 5 votes each by 5 of 20 labellers (accuracy 60–97%), 30% hot
    /// dogs, answers a few seconds apart; 1,000 gold images.
    static DATASET: LazyLock<(Vec<(String, ImageSummary)>, GoldSet)> = LazyLock::new(|| {
        let mut rng = XorShift(2026);
        let mut gold = GoldSet::new();
        let files = (0..100_000u64)
            .map(|i| {
                let name = format!("img-{i:06}.jpg");
                let truth = rng.next() % 10 < 3;
                let first = rng.next() % 20;
                let text: String = (0..5u64)
                    .map(|k| {
                        let who = (first + k * 3) % 20;
                        let accuracy = 60 + who * 37 / 19;
                        let right = rng.next() % 100 < accuracy;
                        let hot = truth == right;
                        let secs = i * 4 + k;
                        Answer {
                            kind: if hot { Vote::HotDog } else { Vote::NotHotDog }.into(),
                            at: format!(
                                "2026-12-{:02}T{:02}:{:02}:{:02}Z",
                                1 + secs / 86_400,
                                secs / 3600 % 24,
                                secs / 60 % 60,
                                secs % 60
                            ),
                            labeller: format!("labeller-{who:02}"),
                            answer_id: format!("{i}-{k}"),
                        }
                        .to_line()
                    })
                    .collect();
                if i % 100 == 0 {
                    let v = if truth { Vote::HotDog } else { Vote::NotHotDog };
                    let _ = gold.set(&name, v);
                }
                (name, ImageSummary::from_bytes(text.as_bytes()))
            })
            .collect();
        (files, gold)
    });

    /// Everything `stats` computes on top of the summaries: the Dawid–Skene fit, the
    /// agreement figures and the labeller table.
    #[divan::bench(sample_count = 10)]
    fn assess_100000_images_5_votes(bencher: Bencher) {
        let (files, gold) = &*DATASET;
        let refs: Vec<(&str, &ImageSummary)> = files.iter().map(|(n, s)| (n.as_str(), s)).collect();
        bencher
            .counter(ItemsCount::new(refs.len()))
            .bench(|| assess(black_box(&refs), black_box(gold)).model.iterations);
    }

    /// The EM fit alone, on the same votes (labeller index from the name).
    #[divan::bench(sample_count = 10)]
    fn dawid_skene_fit_100000_images_5_votes(bencher: Bencher) {
        use hotdog_tui::domain::quality::dawid_skene::{VoteRows, fit};
        let (files, gold) = &*DATASET;
        let mut rows = VoteRows {
            labellers: 20,
            starts: vec![0],
            ..VoteRows::default()
        };
        for (name, s) in files {
            for a in &s.current {
                let who = a
                    .labeller
                    .trim_start_matches("labeller-")
                    .parse()
                    .unwrap_or(0);
                rows.voter.push(who);
                rows.hot.push(a.vote == Some(Vote::HotDog));
            }
            rows.starts.push(rows.voter.len());
            rows.anchor.push(gold.get(name).map(|v| v == Vote::HotDog));
        }
        bencher
            .counter(ItemsCount::new(files.len()))
            .bench(|| fit(black_box(&rows)).iterations);
    }
}

mod images {
    use super::*;

    /// A photo-like JPEG: smooth gradients under per-pixel noise (so it does not compress
    /// to nothing), quality 85 like a camera's "fine".
    fn photo(width: u32, height: u32) -> Vec<u8> {
        let mut rng = XorShift(0x5eed);
        let img = image::RgbImage::from_fn(width, height, |x, y| {
            let n = (rng.next() % 48) as u32;
            let r = (x * 255 / width + n) % 256;
            let g = (y * 255 / height + n / 2) % 256;
            let b = ((x + y) * 127 / (width + height) + n) % 256;
            image::Rgb([r as u8, g as u8, b as u8])
        });
        let mut out = Cursor::new(Vec::new());
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        if let Err(e) = img.write_with_encoder(encoder) {
            panic!("cannot encode the bench photo: {e}");
        }
        out.into_inner()
    }

    static PHOTO_600: LazyLock<Vec<u8>> = LazyLock::new(|| photo(600, 600));
    static PHOTO_12MP: LazyLock<Vec<u8>> = LazyLock::new(|| photo(4000, 3000));

    fn photo_named(name: &str) -> &'static [u8] {
        match name {
            "600x600" => &PHOTO_600,
            _ => &PHOTO_12MP,
        }
    }

    /// Decode + downscale to the longer side the TUI keeps.
    #[divan::bench(args = ["600x600", "4000x3000"], sample_count = 20)]
    fn decode_downscale(bencher: Bencher, name: &str) {
        let bytes = photo_named(name);
        bencher.bench(|| decode_for_display(black_box(bytes), DISPLAY_MAX_SIDE).map(|i| i.width()));
    }

    /// The two halves of `decode_downscale` apart: decode alone, then the downscale with
    /// the filter `decode_for_display` uses and with `thumbnail`'s fast box filter.
    #[divan::bench(args = ["600x600", "4000x3000"], sample_count = 20)]
    fn decode_only(bencher: Bencher, name: &str) {
        let bytes = photo_named(name);
        bencher.bench(|| image::load_from_memory(black_box(bytes)).map(|i| i.width()));
    }

    #[divan::bench(args = ["triangle", "thumbnail"], sample_count = 20)]
    fn downscale_12mp_to_1024(bencher: Bencher, filter: &str) {
        let decoded = match image::load_from_memory(&PHOTO_12MP) {
            Ok(i) => i,
            Err(e) => panic!("cannot decode the bench photo: {e}"),
        };
        bencher.bench(|| match filter {
            "triangle" => decoded.resize(DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE, FilterType::Triangle),
            _ => decoded.thumbnail(DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE),
        });
    }

    /// Resize + halfblocks encode into a 40×20-cell tile, as the labelling screen does.
    #[divan::bench(args = ["600x600", "4000x3000"], sample_count = 30)]
    fn halfblocks_encode_40x20(bencher: Bencher, name: &str) {
        let decoded = match decode_for_display(photo_named(name), DISPLAY_MAX_SIDE) {
            Ok(i) => i,
            Err(e) => panic!("cannot decode the bench photo: {e}"),
        };
        let renderer = Renderer::halfblocks(ColourDepth::TrueColor, [28, 28, 32]);
        bencher.bench(|| {
            renderer
                .encode(black_box(&decoded), Size::new(40, 20))
                .is_ok()
        });
    }

    /// The whole path from stored bytes to a drawable tile.
    #[divan::bench(args = ["600x600", "4000x3000"], sample_count = 20)]
    fn decode_downscale_encode(bencher: Bencher, name: &str) {
        let bytes = photo_named(name);
        let renderer = Renderer::halfblocks(ColourDepth::TrueColor, [28, 28, 32]);
        bencher.bench(|| {
            decode_for_display(black_box(bytes), DISPLAY_MAX_SIDE)
                .is_ok_and(|img| renderer.encode(&img, Size::new(40, 20)).is_ok())
        });
    }
}
