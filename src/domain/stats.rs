//! Vote statistics per image and in total: counts, percentages, majority and agreement,
//! all over current votes (one per labeller, see `label_file::resolve`), plus dataset
//! progress: how many images have the votes they need.

use serde::{Deserialize, Serialize};

use super::label_file::{ImageSummary, LabelFile, VoteCounts};

/// Votes an image needs before it leaves the labelling pool, unless configured otherwise.
pub const DEFAULT_VOTES_PER_IMAGE: u64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Majority {
    HotDog,
    NotHotDog,
    Tie,
    NoVotes,
}

impl Majority {
    pub fn label(self) -> &'static str {
        match self {
            Majority::HotDog => "hot dog",
            Majority::NotHotDog => "not hot dog",
            Majority::Tie => "tie",
            Majority::NoVotes => "no votes yet",
        }
    }
}

/// What the statistics panel and `stats` show for one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageStats {
    pub image: String,
    /// Current votes: labellers whose latest answer is a vote, plus anonymous votes.
    pub votes: u64,
    pub hotdog: u64,
    pub not_hotdog: u64,
    pub hotdog_pct: f64,
    pub not_hotdog_pct: f64,
    pub majority: Majority,
    /// Share of votes for the majority label, 0..=1 (0.5 for a tie, 0 with no votes).
    pub agreement: f64,
    /// Every answer line in the file, superseded ones and skips included.
    pub answers: u64,
    /// Labellers whose latest answer is a skip.
    pub skips: u64,
    /// Has the votes it needs (`votes-per-image`): no longer shown to labellers.
    pub done: bool,
    /// Lines of the label file that could not be read.
    pub malformed_lines: usize,
    /// Latest time among the current answers, if any carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_answer_at: Option<compact_str::CompactString>,
    /// The consensus label (`domain::quality`): a reviewer's decision, a gold answer, or the
    /// Dawid–Skene estimate. The majority until the quality figures are applied.
    pub consensus: Majority,
    /// Posterior probability of the consensus label; `None` without votes, or before the
    /// quality figures are applied.
    pub confidence: Option<f64>,
    /// A reviewer decided the image.
    pub adjudicated: bool,
}

impl ImageStats {
    pub fn from_counts(image: &str, counts: VoteCounts, malformed_lines: usize) -> ImageStats {
        let votes = counts.total();
        let pct = |n: u64| {
            if votes == 0 {
                0.0
            } else {
                n as f64 * 100.0 / votes as f64
            }
        };
        let majority = if votes == 0 {
            Majority::NoVotes
        } else if counts.hotdog > counts.not_hotdog {
            Majority::HotDog
        } else if counts.not_hotdog > counts.hotdog {
            Majority::NotHotDog
        } else {
            Majority::Tie
        };
        let agreement = if votes == 0 {
            0.0
        } else {
            counts.hotdog.max(counts.not_hotdog) as f64 / votes as f64
        };
        ImageStats {
            image: image.to_string(),
            votes,
            hotdog: counts.hotdog,
            not_hotdog: counts.not_hotdog,
            hotdog_pct: pct(counts.hotdog),
            not_hotdog_pct: pct(counts.not_hotdog),
            majority,
            agreement,
            answers: votes,
            skips: 0,
            done: false,
            malformed_lines,
            last_answer_at: None,
            consensus: majority,
            confidence: None,
            adjudicated: false,
        }
    }

    pub fn from_summary(image: &str, summary: &ImageSummary, votes_per_image: u64) -> ImageStats {
        let mut s = ImageStats::from_counts(image, summary.votes, summary.malformed);
        s.answers = summary.answers;
        s.skips = summary.skips;
        s.done = summary.is_done(votes_per_image);
        s.last_answer_at = summary.last_answer_at.clone();
        // A fact of the file, known without the quality model (the review view needs it).
        s.adjudicated = summary.adjudication.is_some();
        s
    }

    pub fn from_file(image: &str, file: &LabelFile, votes_per_image: u64) -> ImageStats {
        ImageStats::from_summary(image, &ImageSummary::from_file(file), votes_per_image)
    }

    pub fn no_votes(image: &str) -> ImageStats {
        ImageStats::from_counts(image, VoteCounts::default(), 0)
    }
}

/// Totals over all images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub images: usize,
    pub labelled_images: usize,
    /// Images with the votes they need.
    pub done_images: usize,
    /// Current votes (one per labeller per image).
    pub votes: u64,
    /// Every answer line, superseded ones and skips included.
    pub answers: u64,
    pub skips: u64,
    pub hotdog: u64,
    pub not_hotdog: u64,
    pub hotdog_pct: f64,
    pub not_hotdog_pct: f64,
    pub malformed_lines: usize,
}

pub fn totals(images: &[ImageStats]) -> Totals {
    let hotdog: u64 = images.iter().map(|s| s.hotdog).sum();
    let not_hotdog: u64 = images.iter().map(|s| s.not_hotdog).sum();
    let votes = hotdog + not_hotdog;
    let pct = |n: u64| {
        if votes == 0 {
            0.0
        } else {
            n as f64 * 100.0 / votes as f64
        }
    };
    Totals {
        images: images.len(),
        labelled_images: images.iter().filter(|s| s.votes > 0).count(),
        done_images: images.iter().filter(|s| s.done).count(),
        votes,
        answers: images.iter().map(|s| s.answers).sum(),
        skips: images.iter().map(|s| s.skips).sum(),
        hotdog,
        not_hotdog,
        hotdog_pct: pct(hotdog),
        not_hotdog_pct: pct(not_hotdog),
        malformed_lines: images.iter().map(|s| s.malformed_lines).sum(),
    }
}

/// Sort keys the statistics panel cycles through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    Votes,
    HotDogShare,
    Agreement,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::Votes,
            SortKey::Votes => SortKey::HotDogShare,
            SortKey::HotDogShare => SortKey::Agreement,
            SortKey::Agreement => SortKey::Name,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Votes => "votes",
            SortKey::HotDogShare => "hot dog %",
            SortKey::Agreement => "agreement",
        }
    }
}

/// Sorts by the key: names ascending, figures descending (ties by name).
pub fn sort_stats(images: &mut [ImageStats], key: SortKey) {
    use std::cmp::Ordering;
    let by_f64 = |a: f64, b: f64| b.partial_cmp(&a).unwrap_or(Ordering::Equal);
    images.sort_by(|a, b| {
        let primary = match key {
            SortKey::Name => Ordering::Equal,
            SortKey::Votes => b.votes.cmp(&a.votes),
            SortKey::HotDogShare => by_f64(a.hotdog_pct, b.hotdog_pct),
            SortKey::Agreement => by_f64(a.agreement, b.agreement),
        };
        primary.then_with(|| a.image.cmp(&b.image))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_and_agreement() {
        let s = ImageStats::from_counts(
            "a",
            VoteCounts {
                hotdog: 5,
                not_hotdog: 1,
            },
            0,
        );
        assert_eq!(s.majority, Majority::HotDog);
        assert!((s.agreement - 5.0 / 6.0).abs() < 1e-9);
        assert!((s.hotdog_pct - 83.333).abs() < 0.01);
        let t = ImageStats::from_counts(
            "b",
            VoteCounts {
                hotdog: 2,
                not_hotdog: 2,
            },
            0,
        );
        assert_eq!(t.majority, Majority::Tie);
        assert_eq!(t.agreement, 0.5);
        let n = ImageStats::no_votes("c");
        assert_eq!(n.majority, Majority::NoVotes);
        assert_eq!(n.majority.label(), "no votes yet");
        assert_eq!(n.hotdog_pct, 0.0);
    }

    #[test]
    fn stats_count_current_votes_and_progress() {
        let file = LabelFile::parse(
            b"1\t2026-12-01T07:00:00Z\tann\ta1\n1\t2026-12-01T07:00:01Z\tann\ta2\n0\t2026-12-01T07:00:02Z\tann\ta3\ns\t2026-12-01T07:00:03Z\tbob\tb1\n1\n",
        );
        let s = ImageStats::from_file("x.jpg", &file, 2);
        assert_eq!(
            (s.votes, s.hotdog, s.not_hotdog, s.answers, s.skips),
            (2, 1, 1, 5, 1)
        );
        assert_eq!(s.majority, Majority::Tie);
        assert!(s.done);
        assert!(!ImageStats::from_file("x.jpg", &file, 3).done);
        let t = totals(&[s, ImageStats::no_votes("y.jpg")]);
        assert_eq!((t.done_images, t.votes, t.answers, t.skips), (1, 2, 5, 1));
    }

    #[test]
    fn totals_add_up() {
        let all = vec![
            ImageStats::from_counts(
                "a",
                VoteCounts {
                    hotdog: 3,
                    not_hotdog: 1,
                },
                2,
            ),
            ImageStats::no_votes("b"),
        ];
        let t = totals(&all);
        assert_eq!(
            (
                t.images,
                t.labelled_images,
                t.votes,
                t.hotdog,
                t.malformed_lines
            ),
            (2, 1, 4, 3, 2)
        );
        assert_eq!(t.hotdog_pct, 75.0);
    }

    #[test]
    fn sorting() {
        let mut all = vec![
            ImageStats::from_counts(
                "b",
                VoteCounts {
                    hotdog: 1,
                    not_hotdog: 0,
                },
                0,
            ),
            ImageStats::from_counts(
                "a",
                VoteCounts {
                    hotdog: 1,
                    not_hotdog: 3,
                },
                0,
            ),
        ];
        sort_stats(&mut all, SortKey::Votes);
        assert_eq!(all[0].image, "a");
        sort_stats(&mut all, SortKey::HotDogShare);
        assert_eq!(all[0].image, "b");
        sort_stats(&mut all, SortKey::Name);
        assert_eq!(all[0].image, "a");
        assert_eq!(SortKey::Agreement.next(), SortKey::Name);
    }
}
