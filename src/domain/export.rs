//! Dataset export: CSV of the statistics, and JSONL in the shape of a SageMaker Ground Truth
//! image-classification output manifest (one object a line). Both count current votes only
//! (one per labeller); `ExportFilter` leaves out images with too few votes.

use serde_json::json;

use super::stats::{ImageStats, Majority};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
        }
    }
}

/// What an export wrote, for the message shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExportSummary {
    pub rows: usize,
    /// Images left out of a manifest: no votes or a tie, so no label to train on.
    pub skipped: usize,
    /// Images left out by the filter (too few votes, or not done).
    pub filtered: usize,
}

/// Which images an export includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportFilter {
    /// Only images with at least this many current votes.
    pub min_votes: u64,
    /// Only images with the votes they need (`ImageStats::done`).
    pub only_done: bool,
}

impl ExportFilter {
    pub fn keeps(&self, s: &ImageStats) -> bool {
        s.votes >= self.min_votes && (s.done || !self.only_done)
    }

    /// The images the filter keeps, and how many it left out.
    pub fn apply<'a>(&self, images: &'a [ImageStats]) -> (Vec<&'a ImageStats>, usize) {
        let kept: Vec<&ImageStats> = images.iter().filter(|s| self.keeps(s)).collect();
        let left_out = images.len() - kept.len();
        (kept, left_out)
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row per image; columns after `malformed_lines` were added later, so readers of the
/// older columns keep working.
pub fn to_csv(images: &[ImageStats], filter: ExportFilter) -> (String, ExportSummary) {
    let (images, filtered) = filter.apply(images);
    let mut out = String::from(
        "image,votes,hotdog,not_hotdog,hotdog_pct,not_hotdog_pct,majority,agreement,malformed_lines,skips,answers,done\n",
    );
    for s in &images {
        out.push_str(&format!(
            "{},{},{},{},{:.2},{:.2},{},{:.4},{},{},{},{}\n",
            csv_field(&s.image),
            s.votes,
            s.hotdog,
            s.not_hotdog,
            s.hotdog_pct,
            s.not_hotdog_pct,
            s.majority.label(),
            s.agreement,
            s.malformed_lines,
            s.skips,
            s.answers,
            s.done
        ));
    }
    let rows = images.len();
    (
        out,
        ExportSummary {
            rows,
            skipped: 0,
            filtered,
        },
    )
}

/// One manifest line per image with a majority label. `now` is used as the creation date
/// of images whose answers carry no time (the original's bare lines).
pub fn to_manifest(
    bucket: &str,
    images: &[ImageStats],
    filter: ExportFilter,
    now: &str,
) -> (String, ExportSummary) {
    let (images, filtered) = filter.apply(images);
    let mut out = String::new();
    let mut rows = 0;
    let mut skipped = 0;
    for s in images {
        let (class, name) = match s.majority {
            Majority::HotDog => (1, "hot dog"),
            Majority::NotHotDog => (0, "not hot dog"),
            Majority::Tie | Majority::NoVotes => {
                skipped += 1;
                continue;
            }
        };
        let line = json!({
            "source-ref": format!("s3://{bucket}/images/{}", s.image),
            "hotdog": class,
            "hotdog-metadata": {
                "class-name": name,
                "confidence": (s.agreement * 100.0).round() / 100.0,
                "votes": s.votes,
                "type": "groundtruth/image-classification",
                "human-annotated": "yes",
                "creation-date": s.last_answer_at.clone().unwrap_or_else(|| now.to_string()),
            }
        });
        out.push_str(&line.to_string());
        out.push('\n');
        rows += 1;
    }
    (
        out,
        ExportSummary {
            rows,
            skipped,
            filtered,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::label_file::VoteCounts;

    fn stats() -> Vec<ImageStats> {
        vec![
            ImageStats::from_counts(
                "1.jpg",
                VoteCounts {
                    hotdog: 5,
                    not_hotdog: 1,
                },
                0,
            ),
            ImageStats::from_counts(
                "a,\"b\".jpg",
                VoteCounts {
                    hotdog: 1,
                    not_hotdog: 1,
                },
                0,
            ),
            ImageStats::no_votes("3.jpg"),
        ]
    }

    #[test]
    fn csv_quotes_awkward_names() {
        let (csv, summary) = to_csv(&stats(), ExportFilter::default());
        assert_eq!(summary.rows, 3);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[1],
            "1.jpg,6,5,1,83.33,16.67,hot dog,0.8333,0,0,6,false"
        );
        assert!(lines[2].starts_with("\"a,\"\"b\"\".jpg\",2,"));
        assert!(lines[3].contains("no votes yet"));
    }

    #[test]
    fn filters_leave_out_images_with_too_few_votes() {
        let mut all = stats();
        all[0].done = true;
        let (csv, summary) = to_csv(
            &all,
            ExportFilter {
                min_votes: 2,
                only_done: false,
            },
        );
        assert_eq!((summary.rows, summary.filtered), (2, 1));
        assert!(!csv.contains("3.jpg"));
        let (jsonl, summary) = to_manifest(
            "bkt",
            &all,
            ExportFilter {
                min_votes: 0,
                only_done: true,
            },
            "now",
        );
        assert_eq!((summary.rows, summary.skipped, summary.filtered), (1, 0, 2));
        assert!(jsonl.contains("1.jpg"));
    }

    #[test]
    fn manifest_matches_ground_truth_shape() {
        let (jsonl, summary) = to_manifest(
            "bkt",
            &stats(),
            ExportFilter::default(),
            "2026-12-01T00:00:00Z",
        );
        assert_eq!(
            summary,
            ExportSummary {
                rows: 1,
                skipped: 2,
                filtered: 0
            }
        );
        let v: serde_json::Value = serde_json::from_str(jsonl.trim()).unwrap();
        assert_eq!(v["source-ref"], "s3://bkt/images/1.jpg");
        assert_eq!(v["hotdog"], 1);
        assert_eq!(v["hotdog-metadata"]["class-name"], "hot dog");
        assert_eq!(v["hotdog-metadata"]["confidence"], 0.83);
        assert_eq!(v["hotdog-metadata"]["votes"], 6);
        assert_eq!(
            v["hotdog-metadata"]["type"],
            "groundtruth/image-classification"
        );
        assert_eq!(v["hotdog-metadata"]["human-annotated"], "yes");
        assert_eq!(
            v["hotdog-metadata"]["creation-date"],
            "2026-12-01T00:00:00Z"
        );
    }
}
