//! Label quality over the current answers: the consensus per image with its confidence
//! (Dawid–Skene, `dawid_skene`), agreement beyond chance (`agreement`), and the labeller
//! table (`labellers`). `assess` computes all of it from the label files' summaries and the
//! gold answers; pure and deterministic (images and labellers in name order).
//!
//! Anonymous votes (the original system's) are votes of one shared pseudo-labeller,
//! `ANONYMOUS`, in the estimate and in the table. A reviewer's decision (adjudication)
//! settles its image: consensus = the decision, confidence 1, marked adjudicated. A gold
//! image not adjudicated has its gold answer as consensus, confidence 1. Both anchor the
//! estimate (the labellers who voted on them are scored against them).

pub mod agreement;
pub mod dawid_skene;
pub mod labellers;

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use self::agreement::Agreement;
use self::dawid_skene::VoteRows;
use self::labellers::LabellerRow;
use super::gold::GoldSet;
use super::label_file::{ImageSummary, Vote};
use super::stats::{ImageStats, Majority};

/// The pseudo-labeller who cast every anonymous vote. It is a labeller of its own in the
/// estimate even beside a real labeller of this name (names are free text): the table then
/// shows two rows of that name, the pseudo-labeller's marked `anonymous`.
pub const ANONYMOUS: &str = "(anonymous)";

/// One image's consensus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageQuality {
    pub image: String,
    /// The Dawid–Skene label, or the reviewer's decision, or the gold answer.
    pub consensus: Majority,
    /// Posterior probability of the consensus label; `None` without votes or anchor.
    pub confidence: Option<f64>,
    pub adjudicated: bool,
    /// The gold answer, for a gold image.
    pub gold: Option<Vote>,
}

/// How the estimate went.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub prior_hotdog: f64,
    pub iterations: u32,
    pub converged: bool,
}

/// Everything the quality figures say about a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// In image-name order.
    pub images: Vec<ImageQuality>,
    pub agreement: Agreement,
    /// Named labellers in name order, then `ANONYMOUS` if there are anonymous votes.
    pub labellers: Vec<LabellerRow>,
    pub model: ModelSummary,
}

impl QualityReport {
    /// Copies each image's consensus, confidence and adjudication onto its statistics
    /// (matched by name; both lists are looked up, not assumed aligned).
    pub fn apply_to(&self, stats: &mut [ImageStats]) {
        copy_by_name(
            self.images
                .iter()
                .map(|q| (q.image.as_str(), (q.consensus, q.confidence, q.adjudicated))),
            stats,
        );
    }
}

/// An image's consensus, confidence and whether a reviewer decided it.
pub type ImageFigures = (Majority, Option<f64>, bool);

/// Copies each image's quality figures from `from` onto `stats`, matched by name (neither
/// list is assumed aligned with the other). Images `from` does not name keep theirs.
pub fn copy_by_name<'a>(
    from: impl IntoIterator<Item = (&'a str, ImageFigures)>,
    stats: &mut [ImageStats],
) {
    let by_name: HashMap<&str, ImageFigures> = from.into_iter().collect();
    for s in stats {
        if let Some(&(consensus, confidence, adjudicated)) = by_name.get(s.image.as_str()) {
            s.consensus = consensus;
            s.confidence = confidence;
            s.adjudicated = adjudicated;
        }
    }
}

/// The votes of every image, indexed for the estimate.
struct Indexed<'a> {
    images: Vec<(&'a str, &'a ImageSummary)>,
    /// Labeller names by index (named in order, then `ANONYMOUS` if used).
    names: Vec<&'a str>,
    anonymous: Option<u32>,
    rows: VoteRows,
}

fn index<'a>(images: &[(&'a str, &'a ImageSummary)], gold: &GoldSet) -> Indexed<'a> {
    let mut images = images.to_vec();
    images.sort_by(|a, b| a.0.cmp(b.0));
    let named: BTreeSet<&str> = images
        .iter()
        .flat_map(|(_, s)| s.current.iter().map(|a| a.labeller.as_str()))
        .collect();
    let mut names: Vec<&str> = named.into_iter().collect();
    let ids: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, i as u32))
        .collect();
    let anonymous = images
        .iter()
        .any(|(_, s)| s.anonymous_votes > 0)
        .then_some(names.len() as u32);
    if anonymous.is_some() {
        names.push(ANONYMOUS);
    }
    let total_votes: usize = images.iter().map(|(_, s)| s.vote_count() as usize).sum();
    let mut rows = VoteRows {
        labellers: names.len(),
        starts: Vec::with_capacity(images.len() + 1),
        voter: Vec::with_capacity(total_votes),
        hot: Vec::with_capacity(total_votes),
        anchor: Vec::with_capacity(images.len()),
    };
    rows.starts.push(0);
    for (image, s) in &images {
        for a in &s.current {
            if let (Some(v), Some(&j)) = (a.vote, ids.get(a.labeller.as_str())) {
                rows.voter.push(j);
                rows.hot.push(v == Vote::HotDog);
            }
        }
        if let Some(j) = anonymous {
            let anon = s.anonymous_counts();
            for (n, hot) in [(anon.hotdog, true), (anon.not_hotdog, false)] {
                for _ in 0..n {
                    rows.voter.push(j);
                    rows.hot.push(hot);
                }
            }
        }
        rows.starts.push(rows.voter.len());
        let anchor = s
            .adjudication
            .as_ref()
            .map(|a| a.vote)
            .or_else(|| gold.get(image));
        rows.anchor.push(anchor.map(|v| v == Vote::HotDog));
    }
    Indexed {
        images,
        names,
        anonymous,
        rows,
    }
}

/// The quality figures for these label files (any order) and gold answers.
pub fn assess(images: &[(&str, &ImageSummary)], gold: &GoldSet) -> QualityReport {
    let indexed = index(images, gold);
    let model = dawid_skene::fit(&indexed.rows);
    let per_image = indexed
        .images
        .iter()
        .zip(&model.p_hotdog)
        .map(|((image, s), p)| consensus(image, s, gold.get(image), *p))
        .collect();
    let units: Vec<[u64; 2]> = indexed
        .images
        .iter()
        .map(|(_, s)| [s.votes.hotdog, s.votes.not_hotdog])
        .collect();
    let labellers = labellers::table(
        &indexed.images,
        &indexed.names,
        indexed.anonymous,
        gold,
        &model,
    );
    QualityReport {
        images: per_image,
        agreement: agreement::agreement(&units),
        labellers,
        model: ModelSummary {
            prior_hotdog: model.prior_hotdog,
            iterations: model.iterations,
            converged: model.converged,
        },
    }
}

fn consensus(image: &str, s: &ImageSummary, gold: Option<Vote>, p: Option<f64>) -> ImageQuality {
    let majority_of = |v: Vote| match v {
        Vote::HotDog => Majority::HotDog,
        Vote::NotHotDog => Majority::NotHotDog,
    };
    let (consensus, confidence, adjudicated) = if let Some(a) = &s.adjudication {
        (majority_of(a.vote), Some(1.0), true)
    } else if let Some(g) = gold {
        (majority_of(g), Some(1.0), false)
    } else {
        match p {
            None => (Majority::NoVotes, None, false),
            Some(p) if p > 0.5 => (Majority::HotDog, Some(p), false),
            Some(p) if p < 0.5 => (Majority::NotHotDog, Some(1.0 - p), false),
            Some(_) => (Majority::Tie, Some(0.5), false),
        }
    };
    ImageQuality {
        image: image.to_string(),
        consensus,
        confidence,
        adjudicated,
        gold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::label_file::{Answer, AnswerKind};

    fn summary(answers: &[(&str, AnswerKind, &str)]) -> ImageSummary {
        let text: String = answers
            .iter()
            .enumerate()
            .map(|(i, (who, kind, at))| {
                Answer {
                    kind: *kind,
                    at: at.to_string(),
                    labeller: who.to_string(),
                    answer_id: format!("id{i}"),
                }
                .to_line()
            })
            .collect();
        ImageSummary::from_bytes(text.as_bytes())
    }

    const HOT: AnswerKind = AnswerKind::Vote(Vote::HotDog);
    const NOT: AnswerKind = AnswerKind::Vote(Vote::NotHotDog);
    const T: &str = "2026-12-01T07:00:00Z";

    #[test]
    fn adjudication_and_gold_decide_with_confidence_one() {
        let contested = summary(&[
            ("ann", HOT, T),
            ("bob", NOT, T),
            ("rev", AnswerKind::Adjudication(Vote::NotHotDog), T),
        ]);
        let gold_img = summary(&[("ann", HOT, T), ("bob", HOT, T)]);
        let plain = summary(&[("ann", HOT, T), ("bob", HOT, T)]);
        let empty = ImageSummary::default();
        let mut gold = GoldSet::new();
        gold.set("g.jpg", Vote::NotHotDog).unwrap();
        let r = assess(
            &[
                ("z.jpg", &empty),
                ("c.jpg", &contested),
                ("g.jpg", &gold_img),
                ("p.jpg", &plain),
            ],
            &gold,
        );
        let names: Vec<&str> = r.images.iter().map(|q| q.image.as_str()).collect();
        assert_eq!(names, ["c.jpg", "g.jpg", "p.jpg", "z.jpg"]);
        assert_eq!(
            (
                r.images[0].consensus,
                r.images[0].confidence,
                r.images[0].adjudicated
            ),
            (Majority::NotHotDog, Some(1.0), true)
        );
        assert_eq!(
            (
                r.images[1].consensus,
                r.images[1].confidence,
                r.images[1].gold
            ),
            (Majority::NotHotDog, Some(1.0), Some(Vote::NotHotDog))
        );
        // (p.jpg: ann and bob said hot on two images known to be not, so their agreement
        // on p.jpg is weak evidence; its label is the model's call.)
        assert!(r.images[2].confidence.unwrap() >= 0.5);
        let alone = assess(&[("p.jpg", &plain)], &GoldSet::new());
        assert_eq!(alone.images[0].consensus, Majority::HotDog);
        assert!(alone.images[0].confidence.unwrap() > 0.5);
        assert_eq!(
            (r.images[3].consensus, r.images[3].confidence),
            (Majority::NoVotes, None)
        );
        let mut stats = vec![ImageStats::from_summary("c.jpg", &contested, 3)];
        assert_eq!(stats[0].majority, Majority::Tie);
        r.apply_to(&mut stats);
        assert_eq!(
            (stats[0].consensus, stats[0].adjudicated),
            (Majority::NotHotDog, true)
        );
    }

    #[test]
    fn anonymous_votes_are_one_pseudo_labeller() {
        let mut bytes = b"1\n1\n0\n".to_vec();
        bytes.extend_from_slice(
            Answer {
                kind: HOT,
                at: T.into(),
                labeller: "ann".into(),
                answer_id: "a".into(),
            }
            .to_line()
            .as_bytes(),
        );
        let s = ImageSummary::from_bytes(&bytes);
        let r = assess(&[("x.jpg", &s)], &GoldSet::new());
        let names: Vec<&str> = r.labellers.iter().map(|l| l.labeller.as_str()).collect();
        assert_eq!(names, ["ann", ANONYMOUS]);
        assert_eq!((r.labellers[1].votes, r.labellers[1].hotdog), (3, 2));
        assert!(r.labellers[1].anonymous);
        assert_eq!(r.images[0].consensus, Majority::HotDog);
        // Four votes on one image: 3 of 4 agree on hot → pairs (3·2 + 1·0)/(4·3) = 0.5.
        assert_eq!(r.agreement.percent_agreement.value, Some(0.5));
    }

    #[test]
    fn a_labeller_named_like_the_pseudo_labeller_stays_apart() {
        let mut bytes = b"0\n".to_vec();
        bytes.extend_from_slice(
            Answer {
                kind: HOT,
                at: T.into(),
                labeller: ANONYMOUS.into(),
                answer_id: "a".into(),
            }
            .to_line()
            .as_bytes(),
        );
        let s = ImageSummary::from_bytes(&bytes);
        let r = assess(&[("x.jpg", &s)], &GoldSet::new());
        let rows: Vec<(&str, bool, u64, u64)> = r
            .labellers
            .iter()
            .map(|l| (l.labeller.as_str(), l.anonymous, l.votes, l.hotdog))
            .collect();
        assert_eq!(rows, [(ANONYMOUS, false, 1, 1), (ANONYMOUS, true, 1, 0)]);
    }
}
