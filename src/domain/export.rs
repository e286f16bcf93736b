//! Dataset export: CSV of the statistics, JSONL in the shape of a SageMaker Ground Truth
//! image-classification output manifest (one object a line) labelled with the consensus
//! (`domain::quality`), and every current answer as CSV for teams that aggregate
//! themselves. All count current votes only (one per labeller); `ExportFilter` leaves out
//! images with too few votes or too little confidence.

use serde_json::json;

use super::label_file::ImageSummary;
use super::stats::{ImageStats, Majority};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
    /// Every current answer, one CSV row each (`to_answers_csv`).
    Answers,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv | ExportFormat::Answers => "csv",
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
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ExportFilter {
    /// Only images with at least this many current votes.
    pub min_votes: u64,
    /// Only images with the votes they need (`ImageStats::done`).
    pub only_done: bool,
    /// Only images whose consensus has at least this confidence (images without one are
    /// left out when this is set).
    pub min_confidence: Option<f64>,
}

impl ExportFilter {
    pub fn keeps(&self, s: &ImageStats) -> bool {
        s.votes >= self.min_votes
            && (s.done || !self.only_done)
            && self
                .min_confidence
                .is_none_or(|min| s.confidence.is_some_and(|c| c >= min))
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
/// older columns keep working. `confidence` is empty when there is none.
pub fn to_csv(images: &[ImageStats], filter: ExportFilter) -> (String, ExportSummary) {
    let (images, filtered) = filter.apply(images);
    let mut out = String::from(
        "image,votes,hotdog,not_hotdog,hotdog_pct,not_hotdog_pct,majority,agreement,malformed_lines,skips,answers,done,consensus,confidence,adjudicated\n",
    );
    for s in &images {
        out.push_str(&format!(
            "{},{},{},{},{:.2},{:.2},{},{:.4},{},{},{},{},{},{},{}\n",
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
            s.done,
            s.consensus.label(),
            s.confidence.map(|c| format!("{c:.4}")).unwrap_or_default(),
            s.adjudicated
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

/// One manifest line per image with a consensus label (a reviewer's decision, a gold answer
/// or the Dawid–Skene estimate; see `domain::quality`). `confidence` is the consensus's
/// posterior to 3 decimals (the majority's share if no estimate was applied), `votes` the
/// current votes, `adjudicated` whether a reviewer decided. `now` is used as the creation
/// date of images whose answers carry no time (the original's bare lines).
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
        let (class, name) = match s.consensus {
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
                "confidence": (s.confidence.unwrap_or(s.agreement) * 1000.0).round() / 1000.0,
                "votes": s.votes,
                "adjudicated": s.adjudicated,
                "type": "groundtruth/image-classification",
                "human-annotated": "yes",
                "creation-date": s.last_answer_at.as_deref().unwrap_or(now),
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

/// Every current answer of the images the filter keeps, one CSV row each:
/// `image,labeller,answer,at,answer_id`. `answer` is the label-file code: `1` hot dog, `0`
/// not, `s` skip, `!1` / `!0` a reviewer's decision. Anonymous votes have an empty
/// labeller, time and id (the summaries keep only their count), one row per vote.
pub fn to_answers_csv(
    images: &[ImageStats],
    summaries: &[(&str, &ImageSummary)],
    filter: ExportFilter,
) -> (String, ExportSummary) {
    use std::collections::HashMap;
    let (kept, filtered) = filter.apply(images);
    let by_name: HashMap<&str, &ImageSummary> = summaries.iter().copied().collect();
    let mut out = String::from("image,labeller,answer,at,answer_id\n");
    let mut rows = 0;
    for s in kept {
        let Some(summary) = by_name.get(s.image.as_str()) else {
            continue;
        };
        let image = csv_field(&s.image);
        for a in &summary.current {
            let code = a.vote.map_or("s", |v| {
                if v == super::label_file::Vote::HotDog {
                    "1"
                } else {
                    "0"
                }
            });
            out.push_str(&format!(
                "{image},{},{code},{},{}\n",
                csv_field(&a.labeller),
                csv_field(&a.at),
                csv_field(&a.answer_id.to_string())
            ));
            rows += 1;
        }
        let anon = summary.anonymous_counts();
        for (n, code) in [(anon.hotdog, "1"), (anon.not_hotdog, "0")] {
            for _ in 0..n {
                out.push_str(&format!("{image},,{code},,\n"));
                rows += 1;
            }
        }
        if let Some(a) = &summary.adjudication {
            out.push_str(&format!(
                "{image},{},!{},{},{}\n",
                csv_field(&a.by),
                a.vote.digit(),
                csv_field(&a.at),
                csv_field(&a.answer_id.to_string())
            ));
            rows += 1;
        }
    }
    (
        out,
        ExportSummary {
            rows,
            skipped: 0,
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
            "1.jpg,6,5,1,83.33,16.67,hot dog,0.8333,0,0,6,false,hot dog,,false"
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
                ..ExportFilter::default()
            },
        );
        assert_eq!((summary.rows, summary.filtered), (2, 1));
        assert!(!csv.contains("3.jpg"));
        let (jsonl, summary) = to_manifest(
            "bkt",
            &all,
            ExportFilter {
                only_done: true,
                ..ExportFilter::default()
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
        // No estimate applied: the majority's share.
        assert_eq!(v["hotdog-metadata"]["confidence"], 0.833);
        assert_eq!(v["hotdog-metadata"]["adjudicated"], false);
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

    #[test]
    fn the_manifest_follows_the_consensus_and_its_confidence() {
        let mut all = stats();
        // The tie on the second image was decided by a reviewer; the first image's
        // estimate is less sure than its majority share.
        all[1].consensus = Majority::NotHotDog;
        all[1].confidence = Some(1.0);
        all[1].adjudicated = true;
        all[0].confidence = Some(0.71234);
        let (jsonl, summary) = to_manifest("bkt", &all, ExportFilter::default(), "now");
        assert_eq!((summary.rows, summary.skipped), (2, 1));
        let lines: Vec<serde_json::Value> = jsonl
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["hotdog-metadata"]["confidence"], 0.712);
        assert_eq!(lines[1]["hotdog"], 0);
        assert_eq!(lines[1]["hotdog-metadata"]["adjudicated"], true);
        assert_eq!(lines[1]["hotdog-metadata"]["confidence"], 1.0);
        let sure = ExportFilter {
            min_confidence: Some(0.9),
            ..ExportFilter::default()
        };
        let (jsonl, summary) = to_manifest("bkt", &all, sure, "now");
        assert_eq!((summary.rows, summary.filtered), (1, 2));
        assert!(jsonl.contains("a,"));
        let (csv, _) = to_csv(&all, ExportFilter::default());
        assert!(
            csv.lines()
                .nth(1)
                .unwrap()
                .ends_with(",hot dog,0.7123,false")
        );
        assert!(
            csv.lines()
                .nth(3)
                .unwrap()
                .ends_with(",no votes yet,,false")
        );
    }

    #[test]
    fn answers_export_lists_every_current_answer() {
        use crate::domain::label_file::ImageSummary;
        let file = "1\t2026-12-01T07:00:00Z\tann\ta1\n0\t2026-12-01T07:00:05Z\tann\ta2\ns\t2026-12-01T07:00:06Z\tbo,b\tb1\n1\n!1\t2026-12-01T08:00:00Z\trev\tr1\n";
        let summary = ImageSummary::from_bytes(file.as_bytes());
        let images = vec![
            ImageStats::from_summary("x.jpg", &summary, 3),
            ImageStats::no_votes("y.jpg"),
        ];
        let (csv, s) = to_answers_csv(&images, &[("x.jpg", &summary)], ExportFilter::default());
        assert_eq!(
            csv,
            "image,labeller,answer,at,answer_id\n\
             x.jpg,ann,0,2026-12-01T07:00:05Z,a2\n\
             x.jpg,\"bo,b\",s,2026-12-01T07:00:06Z,b1\n\
             x.jpg,,1,,\n\
             x.jpg,rev,!1,2026-12-01T08:00:00Z,r1\n"
        );
        assert_eq!((s.rows, s.filtered), (4, 0));
        let three = ExportFilter {
            min_votes: 3,
            ..ExportFilter::default()
        };
        let (csv, s) = to_answers_csv(&images, &[("x.jpg", &summary)], three);
        assert_eq!((s.rows, s.filtered, csv.lines().count()), (0, 2, 1));
    }
}
