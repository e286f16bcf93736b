//! Dataset export: CSV of the statistics, and JSONL in the shape of a SageMaker Ground Truth
//! image-classification output manifest (one object a line).

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub rows: usize,
    /// Images left out of a manifest: no votes or a tie, so no label to train on.
    pub skipped: usize,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn to_csv(images: &[ImageStats]) -> (String, ExportSummary) {
    let mut out = String::from(
        "image,votes,hotdog,not_hotdog,hotdog_pct,not_hotdog_pct,majority,agreement,malformed_lines\n",
    );
    for s in images {
        out.push_str(&format!(
            "{},{},{},{},{:.2},{:.2},{},{:.4},{}\n",
            csv_field(&s.image),
            s.votes,
            s.hotdog,
            s.not_hotdog,
            s.hotdog_pct,
            s.not_hotdog_pct,
            s.majority.label(),
            s.agreement,
            s.malformed_lines
        ));
    }
    let rows = images.len();
    (out, ExportSummary { rows, skipped: 0 })
}

/// One manifest line per image with a majority label. `now` is used as the creation date
/// of images whose answers carry no time (the original's bare lines).
pub fn to_manifest(bucket: &str, images: &[ImageStats], now: &str) -> (String, ExportSummary) {
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
    (out, ExportSummary { rows, skipped })
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
        let (csv, summary) = to_csv(&stats());
        assert_eq!(summary.rows, 3);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[1], "1.jpg,6,5,1,83.33,16.67,hot dog,0.8333,0");
        assert!(lines[2].starts_with("\"a,\"\"b\"\".jpg\",2,"));
        assert!(lines[3].contains("no votes yet"));
    }

    #[test]
    fn manifest_matches_ground_truth_shape() {
        let (jsonl, summary) = to_manifest("bkt", &stats(), "2026-12-01T00:00:00Z");
        assert_eq!(
            summary,
            ExportSummary {
                rows: 1,
                skipped: 2
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
