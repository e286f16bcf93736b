//! The labeller table: per labeller her current votes and skips, her share of hot dog, how
//! often she agrees with the other labellers, her Dawid–Skene rates, her accuracy on gold
//! images, her pace and her first and last answer.
//!
//! - Agreement with the others: on each image she voted on, the majority of the *other*
//!   current votes (anonymous ones included; her own left out); images where the others
//!   tie or did not vote are not counted.
//! - Pace: votes per minute while active. Her current answers (votes and skips) sorted by
//!   time; the gaps of at most `ACTIVE_GAP_SECONDS` between consecutive answers add up to
//!   her active time, longer gaps are breaks. No active time (one answer, or all at the
//!   same second) → no pace. Superseded answers are not in the summaries, so a labeller
//!   who corrects herself shows a little slower than she was.
//! - Anonymous votes carry no time: the `ANONYMOUS` row has no pace and no first/last.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::dawid_skene::DawidSkene;
use crate::domain::gold::GoldSet;
use crate::domain::label_file::{ImageSummary, Vote};

/// Gaps between answers longer than this are breaks, not work.
pub const ACTIVE_GAP_SECONDS: i64 = 300;

/// A share with the number of images it was computed over; `None` when there were none.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub value: Option<f64>,
    pub images: usize,
}

impl Share {
    fn of(hits: usize, images: usize) -> Share {
        Share {
            value: (images > 0).then(|| hits as f64 / images as f64),
            images,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabellerRow {
    pub labeller: String,
    /// The pseudo-labeller of the anonymous votes.
    pub anonymous: bool,
    /// Current votes.
    pub votes: u64,
    pub hotdog: u64,
    /// Current skips.
    pub skips: u64,
    /// Share of her votes that say hot dog.
    pub hotdog_share: Option<f64>,
    /// Agreement with the majority of the other labellers' votes.
    pub agreement_with_others: Share,
    /// Dawid–Skene P(says hot dog | hot dog); `None` without votes.
    pub sensitivity: Option<f64>,
    /// Dawid–Skene P(says not | not a hot dog); `None` without votes.
    pub specificity: Option<f64>,
    /// Her votes on gold images that match the gold answer.
    pub gold_accuracy: Share,
    pub votes_per_minute: Option<f64>,
    /// Active time in minutes (see the module doc).
    pub active_minutes: f64,
    pub first_answer: Option<String>,
    pub last_answer: Option<String>,
}

#[derive(Default)]
struct Tally<'a> {
    votes: u64,
    hotdog: u64,
    skips: u64,
    others_agree: usize,
    others_compared: usize,
    gold_correct: usize,
    gold_images: usize,
    times: Vec<(time::OffsetDateTime, &'a str)>,
}

impl Tally<'_> {
    fn vote(&mut self, v: Vote, all: [u64; 2], gold: Option<Vote>) {
        let hot = v == Vote::HotDog;
        self.votes += 1;
        self.hotdog += u64::from(hot);
        // The others: every current vote on the image but this one.
        let others_hot = all[0] - u64::from(hot);
        let others_not = all[1] - u64::from(!hot);
        if others_hot != others_not {
            self.others_compared += 1;
            if (others_hot > others_not) == hot {
                self.others_agree += 1;
            }
        }
        if let Some(g) = gold {
            self.gold_images += 1;
            self.gold_correct += usize::from(g == v);
        }
    }
}

fn parse_time(at: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
}

/// The table for images in name order, labeller `names` by index (`anonymous` the index of
/// the pseudo-labeller, if any), and the fitted model (same labeller indices).
pub(super) fn table(
    images: &[(&str, &ImageSummary)],
    names: &[&str],
    anonymous: Option<u32>,
    gold: &GoldSet,
    model: &DawidSkene,
) -> Vec<LabellerRow> {
    // Named labellers only: a real labeller named like the pseudo-labeller stays apart.
    let ids: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i as u32) != anonymous)
        .map(|(i, n)| (*n, i))
        .collect();
    let mut tallies: Vec<Tally> = names.iter().map(|_| Tally::default()).collect();
    for (image, s) in images {
        let all = [s.votes.hotdog, s.votes.not_hotdog];
        let gold_vote = gold.get(image);
        for a in &s.current {
            let Some(&j) = ids.get(a.labeller.as_str()) else {
                continue;
            };
            let t = &mut tallies[j];
            match a.vote {
                Some(v) => t.vote(v, all, gold_vote),
                None => t.skips += 1,
            }
            if let Some(at) = parse_time(&a.at) {
                t.times.push((at, a.at.as_str()));
            }
        }
        if let Some(j) = anonymous {
            let anon = s.anonymous_counts();
            let t = &mut tallies[j as usize];
            for (n, v) in [
                (anon.hotdog, Vote::HotDog),
                (anon.not_hotdog, Vote::NotHotDog),
            ] {
                for _ in 0..n {
                    t.vote(v, all, gold_vote);
                }
            }
        }
    }
    tallies
        .into_iter()
        .enumerate()
        .map(|(j, mut t)| {
            t.times.sort();
            let active_seconds: i64 = t
                .times
                .windows(2)
                .map(|w| (w[1].0 - w[0].0).whole_seconds())
                .filter(|gap| *gap <= ACTIVE_GAP_SECONDS)
                .sum();
            let active_minutes = active_seconds as f64 / 60.0;
            let voted = t.votes > 0;
            LabellerRow {
                labeller: names[j].to_string(),
                anonymous: Some(j as u32) == anonymous,
                votes: t.votes,
                hotdog: t.hotdog,
                skips: t.skips,
                hotdog_share: voted.then(|| t.hotdog as f64 / t.votes as f64),
                agreement_with_others: Share::of(t.others_agree, t.others_compared),
                sensitivity: voted.then(|| model.sensitivity[j]),
                specificity: voted.then(|| model.specificity[j]),
                gold_accuracy: Share::of(t.gold_correct, t.gold_images),
                votes_per_minute: (active_seconds > 0).then(|| t.votes as f64 / active_minutes),
                active_minutes,
                first_answer: t.times.first().map(|(_, s)| s.to_string()),
                last_answer: t.times.last().map(|(_, s)| s.to_string()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::assess;
    use super::*;
    use crate::domain::label_file::{Answer, AnswerKind};

    fn file(answers: &[(&str, AnswerKind, &str)]) -> ImageSummary {
        let text: String = answers
            .iter()
            .enumerate()
            .map(|(i, (who, kind, at))| {
                Answer {
                    kind: *kind,
                    at: format!("2026-12-01T{at}Z"),
                    labeller: who.to_string(),
                    answer_id: format!("{who}{i}"),
                }
                .to_line()
            })
            .collect();
        ImageSummary::from_bytes(text.as_bytes())
    }

    const HOT: AnswerKind = AnswerKind::Vote(Vote::HotDog);
    const NOT: AnswerKind = AnswerKind::Vote(Vote::NotHotDog);
    const SKIP: AnswerKind = AnswerKind::Skip;

    #[test]
    fn hand_computed_table() {
        // ann: hot a (07:00:00), hot b (07:00:30), not c (07:01:00), skip d (08:00:00).
        // bob: hot a, not b, not c.   cat: hot a, not b.
        // Gold: b is not a hot dog.
        let a = file(&[
            ("ann", HOT, "07:00:00"),
            ("bob", HOT, "07:00:10"),
            ("cat", HOT, "07:00:20"),
        ]);
        let b = file(&[
            ("ann", HOT, "07:00:30"),
            ("bob", NOT, "07:00:40"),
            ("cat", NOT, "07:00:50"),
        ]);
        let c = file(&[("ann", NOT, "07:01:00"), ("bob", NOT, "07:01:10")]);
        let d = file(&[("ann", SKIP, "08:00:00")]);
        let mut gold = GoldSet::new();
        gold.set("b", Vote::NotHotDog).unwrap();
        let r = assess(&[("a", &a), ("b", &b), ("c", &c), ("d", &d)], &gold);
        let ann = &r.labellers[0];
        assert_eq!(ann.labeller, "ann");
        assert_eq!((ann.votes, ann.hotdog, ann.skips), (3, 2, 1));
        assert_eq!(ann.hotdog_share, Some(2.0 / 3.0));
        // Others: a → bob+cat hot (agree), b → both not (disagree), c → bob not (agree).
        assert_eq!(
            ann.agreement_with_others,
            Share {
                value: Some(2.0 / 3.0),
                images: 3
            }
        );
        assert_eq!(
            ann.gold_accuracy,
            Share {
                value: Some(0.0),
                images: 1
            }
        );
        // Gaps 30 s, 30 s, then 59 min (a break): active 1 min, 3 votes → 3 per minute.
        assert_eq!(ann.active_minutes, 1.0);
        assert_eq!(ann.votes_per_minute, Some(3.0));
        assert_eq!(ann.first_answer.as_deref(), Some("2026-12-01T07:00:00Z"));
        assert_eq!(ann.last_answer.as_deref(), Some("2026-12-01T08:00:00Z"));
        let bob = &r.labellers[1];
        // Others: a → ann+cat hot (agree), b → ann hot, cat not: tie (not counted),
        // c → ann not (agree).
        assert_eq!(
            bob.agreement_with_others,
            Share {
                value: Some(1.0),
                images: 2
            }
        );
        assert_eq!(
            bob.gold_accuracy,
            Share {
                value: Some(1.0),
                images: 1
            }
        );
        let cat = &r.labellers[2];
        assert_eq!(cat.votes_per_minute, Some(2.0 / (30.0 / 60.0)));
        assert!(ann.sensitivity.is_some() && ann.specificity.is_some());
        assert_eq!(r.labellers.len(), 3);
    }

    #[test]
    fn a_labeller_with_only_skips_has_no_rates() {
        let s = file(&[("ann", SKIP, "07:00:00")]);
        let r = assess(&[("a", &s)], &GoldSet::new());
        let ann = &r.labellers[0];
        assert_eq!((ann.votes, ann.skips), (0, 1));
        assert_eq!(
            (ann.sensitivity, ann.hotdog_share, ann.votes_per_minute),
            (None, None, None)
        );
        assert_eq!(ann.agreement_with_others.value, None);
    }
}
