//! Choosing a labelling round. An image with `votes_per_image` current votes, or a
//! reviewer's decision, is done and leaves the pool; a labeller is never shown an image she has answered (vote or skip);
//! images held by other labellers (claims) count as votes on their way, so labellers at
//! work together do not all get the last images; among the rest, fewest votes first,
//! random among equals. When nothing is left for her, `NothingLeft` says why, in figures.
//!
//! Gold images (known answers, `domain::gold`) are not in that pool: `mix_gold` puts the
//! ones she has not answered into her rounds at the gold rate, done or not, at random
//! places, so they look like any other image.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::Hash;

use super::claims::Claim;
use super::label_file::ImageSummary;

pub const ROUND_SIZE: usize = 4;

/// One image as the sampler sees it, for one labeller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolImage {
    pub name: String,
    /// Current votes in its label file.
    pub votes: u64,
    /// Other labellers holding it (shown it, not answered yet).
    pub held_by_others: u64,
    /// She answered it (in the file, or sent and not yet written).
    pub answered_by_me: bool,
    /// A reviewer decided it: it is done whatever its votes.
    pub decided: bool,
}

/// The pool for labeller `me`: `images` (the store's listing), their label-file summaries,
/// everyone's claims, and the images she answered that may not be in the files yet.
pub fn pool<K: Borrow<str> + Eq + Hash>(
    images: &[String],
    summaries: &HashMap<K, ImageSummary>,
    claims: &[Claim],
    me: &str,
    answered_not_yet_written: &HashSet<String>,
    now_ms: i64,
) -> Vec<PoolImage> {
    let mut held: HashMap<&str, HashSet<&str>> = HashMap::new();
    for c in claims {
        if c.expires_ms > now_ms && c.labeller != me {
            held.entry(c.image.as_str())
                .or_default()
                .insert(c.labeller.as_str());
        }
    }
    let empty = ImageSummary::default();
    images
        .iter()
        .map(|name| {
            let summary = summaries.get(name.as_str()).unwrap_or(&empty);
            // A claim by someone whose answer is already in the file is spent.
            let held_by_others = held.get(name.as_str()).map_or(0, |who| {
                who.iter().filter(|w| !summary.answered_by(w)).count() as u64
            });
            PoolImage {
                name: name.clone(),
                votes: summary.vote_count(),
                held_by_others,
                answered_by_me: summary.answered_by(me) || answered_not_yet_written.contains(name),
                decided: summary.adjudication.is_some(),
            }
        })
        .collect()
}

/// Why a labeller has no round, in figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NothingLeft {
    pub done: usize,
    pub total: usize,
    /// Not done, but she answered them.
    pub answered_by_me: usize,
    /// Not done, but other labellers hold the votes they still need right now.
    pub held_by_others: usize,
    pub votes_per_image: u64,
}

impl fmt::Display for NothingLeft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.total == 0 {
            return write!(
                f,
                "there are no images yet; upload some (`a`, or `hotdog-tui upload`)"
            );
        }
        if self.held_by_others > 0 {
            return write!(
                f,
                "nothing left for you right now: {} done of {}, and the {} still needing votes are being labelled by others; new rounds show here if one is left unanswered",
                self.done, self.total, self.held_by_others
            );
        }
        write!(
            f,
            "you have voted on every image that still needs votes: {} done of {}; upload more or raise votes-per-image (now {})",
            self.done, self.total, self.votes_per_image
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundChoice {
    Round(Vec<String>),
    NothingLeft(NothingLeft),
}

/// Up to `n` distinct images for her next round, leaving out `exclude` (the round she has
/// on screen). Fewest votes (counting held ones) first; random among equals.
pub fn choose_round(
    pool: &[PoolImage],
    votes_per_image: u64,
    exclude: &HashSet<String>,
    n: usize,
    rng: &mut fastrand::Rng,
) -> RoundChoice {
    let mut open: Vec<&PoolImage> = Vec::new();
    let mut seen = HashSet::new();
    let (mut done, mut answered, mut held) = (0, 0, 0);
    for p in pool {
        if !seen.insert(p.name.as_str()) {
            continue;
        }
        if p.decided || p.votes >= votes_per_image {
            done += 1;
        } else if p.answered_by_me {
            answered += 1;
        } else if p.votes + p.held_by_others >= votes_per_image {
            held += 1;
        } else if !exclude.contains(&p.name) {
            open.push(p);
        }
    }
    if open.is_empty() {
        return RoundChoice::NothingLeft(NothingLeft {
            done,
            total: seen.len(),
            answered_by_me: answered,
            held_by_others: held,
            votes_per_image,
        });
    }
    rng.shuffle(&mut open);
    // Stable: the shuffle decides the order among equals.
    open.sort_by_key(|p| p.votes + p.held_by_others);
    RoundChoice::Round(open.iter().take(n).map(|p| p.name.clone()).collect())
}

/// The gold images labeller `me` may still be shown: not answered by her (in the files or
/// sent and not yet written), not in `exclude` (on her screen), sorted by name.
pub fn open_gold<'a, K: Borrow<str> + Eq + Hash>(
    gold: impl IntoIterator<Item = &'a String>,
    summaries: &HashMap<K, ImageSummary>,
    me: &str,
    answered_not_yet_written: &HashSet<String>,
    exclude: &HashSet<String>,
) -> Vec<String> {
    let mut open: Vec<String> = gold
        .into_iter()
        .filter(|g| {
            !summaries.get(g.as_str()).is_some_and(|s| s.answered_by(me))
                && !answered_not_yet_written.contains(*g)
                && !exclude.contains(*g)
        })
        .cloned()
        .collect();
    open.sort();
    open.dedup();
    open
}

/// A round with gold images mixed in: each place of `round` (picked from the ordinary
/// pool) is first given, with probability `rate`, to one of `gold` (distinct, at random)
/// while any is left. The ordinary images keep their order around them; a round never
/// ends in gold images alone after the ordinary ones ran out, and the round keeps its
/// length (ordinary images pushed out are not shown: they stay in the pool).
pub fn mix_gold(
    round: Vec<String>,
    gold: &[String],
    rate: f64,
    rng: &mut fastrand::Rng,
) -> Vec<String> {
    if gold.is_empty() || rate <= 0.0 || round.is_empty() {
        return round;
    }
    let mut gold: Vec<&String> = gold.iter().filter(|g| !round.contains(g)).collect();
    let n = round.len();
    let mut ordinary = round.into_iter();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        if !gold.is_empty() && rng.f64() < rate {
            let g = gold.swap_remove(rng.usize(..gold.len()));
            out.push(g.clone());
            continue;
        }
        match ordinary.next() {
            Some(o) => out.push(o),
            None => break,
        }
    }
    out
}

/// Images with `votes_per_image` current votes, of all listed.
pub fn progress<K: Borrow<str> + Eq + Hash>(
    images: &[String],
    summaries: &HashMap<K, ImageSummary>,
    votes_per_image: u64,
) -> (usize, usize) {
    let done = images
        .iter()
        .filter(|i| {
            summaries
                .get(i.as_str())
                .is_some_and(|s| s.is_done(votes_per_image))
        })
        .count();
    (done, images.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::label_file::{Answer, AnswerKind, Vote, append_answers};

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{i}.jpg")).collect()
    }

    fn summary(votes: &[(&str, AnswerKind)]) -> ImageSummary {
        let answers: Vec<Answer> = votes
            .iter()
            .enumerate()
            .map(|(i, (who, kind))| Answer {
                kind: *kind,
                at: "2026-12-01T07:00:00Z".into(),
                labeller: (*who).into(),
                answer_id: format!("id{i}"),
            })
            .collect();
        ImageSummary::from_bytes(&append_answers(b"", &answers).0)
    }

    fn open(name: &str, votes: u64) -> PoolImage {
        PoolImage {
            name: name.into(),
            votes,
            held_by_others: 0,
            answered_by_me: false,
            decided: false,
        }
    }

    fn round(choice: RoundChoice) -> Vec<String> {
        match choice {
            RoundChoice::Round(r) => r,
            RoundChoice::NothingLeft(n) => panic!("nothing left: {n}"),
        }
    }

    #[test]
    fn four_distinct_images() {
        let mut rng = fastrand::Rng::with_seed(1);
        let pool: Vec<PoolImage> = names(20).iter().map(|n| open(n, 0)).collect();
        let r = round(choose_round(&pool, 3, &HashSet::new(), 4, &mut rng));
        assert_eq!(r.len(), 4);
        assert_eq!(r.iter().collect::<HashSet<_>>().len(), 4);
    }

    #[test]
    fn fewest_votes_first() {
        let pool = vec![
            open("a", 2),
            open("b", 0),
            open("c", 1),
            open("d", 0),
            open("e", 2),
        ];
        for seed in 0..30 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let r = round(choose_round(&pool, 3, &HashSet::new(), 3, &mut rng));
            let first_two: HashSet<&str> = r[..2].iter().map(String::as_str).collect();
            assert_eq!(first_two, HashSet::from(["b", "d"]));
            assert_eq!(r[2], "c");
        }
    }

    #[test]
    fn random_among_equals() {
        let pool: Vec<PoolImage> = names(8).iter().map(|n| open(n, 1)).collect();
        let firsts: HashSet<String> = (0..40)
            .map(|seed| {
                let mut rng = fastrand::Rng::with_seed(seed);
                round(choose_round(&pool, 3, &HashSet::new(), 1, &mut rng)).remove(0)
            })
            .collect();
        assert!(firsts.len() >= 5, "{firsts:?}");
    }

    #[test]
    fn done_answered_held_and_excluded_images_are_left_out() {
        let mut summaries = HashMap::new();
        summaries.insert(
            "done.jpg".to_string(),
            summary(&[
                ("a", AnswerKind::Vote(Vote::HotDog)),
                ("b", AnswerKind::Vote(Vote::HotDog)),
                ("", AnswerKind::Vote(Vote::NotHotDog)),
            ]),
        );
        summaries.insert(
            "skipped.jpg".to_string(),
            summary(&[("ann", AnswerKind::Skip)]),
        );
        summaries.insert(
            "voted.jpg".to_string(),
            summary(&[("ann", AnswerKind::Vote(Vote::HotDog))]),
        );
        // One vote, and a reviewer decided it: done, whatever its votes.
        summaries.insert(
            "decided.jpg".to_string(),
            summary(&[
                ("a", AnswerKind::Vote(Vote::HotDog)),
                ("rev", AnswerKind::Adjudication(Vote::NotHotDog)),
            ]),
        );
        // Two votes and a third labeller holding it: no room left.
        summaries.insert(
            "held.jpg".to_string(),
            summary(&[
                ("a", AnswerKind::Vote(Vote::HotDog)),
                ("b", AnswerKind::Vote(Vote::HotDog)),
            ]),
        );
        let images: Vec<String> = [
            "done.jpg",
            "decided.jpg",
            "skipped.jpg",
            "voted.jpg",
            "held.jpg",
            "sent.jpg",
            "shown.jpg",
            "free.jpg",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let claims = vec![
            Claim {
                image: "held.jpg".into(),
                labeller: "cat".into(),
                claimed_ms: 0,
                expires_ms: 1000,
            },
            // Expired, or her own: neither holds anything.
            Claim {
                image: "free.jpg".into(),
                labeller: "dan".into(),
                claimed_ms: 0,
                expires_ms: 10,
            },
            Claim {
                image: "free.jpg".into(),
                labeller: "ann".into(),
                claimed_ms: 0,
                expires_ms: 1000,
            },
        ];
        let sent = HashSet::from(["sent.jpg".to_string()]);
        let p = pool(&images, &summaries, &claims, "ann", &sent, 500);
        let exclude = HashSet::from(["shown.jpg".to_string()]);
        let mut rng = fastrand::Rng::with_seed(7);
        assert_eq!(
            round(choose_round(&p, 3, &exclude, 4, &mut rng)),
            vec!["free.jpg".to_string()]
        );
        let nothing = HashSet::from(["shown.jpg".to_string(), "free.jpg".to_string()]);
        let RoundChoice::NothingLeft(left) = choose_round(&p, 3, &nothing, 4, &mut rng) else {
            panic!("expected nothing left");
        };
        assert_eq!(
            left,
            NothingLeft {
                done: 2,
                total: 8,
                answered_by_me: 3,
                held_by_others: 1,
                votes_per_image: 3
            }
        );
        // After cat's answer lands, her claim is spent and the image is open again.
        let mut with_cat = summaries.clone();
        with_cat.insert(
            "held.jpg".to_string(),
            summary(&[
                ("a", AnswerKind::Vote(Vote::HotDog)),
                ("cat", AnswerKind::Skip),
            ]),
        );
        let p = pool(&images, &with_cat, &claims, "ann", &sent, 500);
        assert_eq!(
            round(choose_round(&p, 3, &nothing, 4, &mut rng)),
            vec!["held.jpg".to_string()]
        );
    }

    #[test]
    fn nothing_left_says_why_in_figures() {
        let left = NothingLeft {
            done: 57,
            total: 60,
            answered_by_me: 3,
            held_by_others: 0,
            votes_per_image: 3,
        };
        assert_eq!(
            left.to_string(),
            "you have voted on every image that still needs votes: 57 done of 60; upload more or raise votes-per-image (now 3)"
        );
        let held = NothingLeft {
            held_by_others: 2,
            ..left
        };
        assert!(
            held.to_string().contains("being labelled by others"),
            "{held}"
        );
    }

    fn gold_names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("gold-{i}.jpg")).collect()
    }

    #[test]
    fn gold_is_mixed_in_at_the_rate() {
        let gold = gold_names(10_000);
        let mut rng = fastrand::Rng::with_seed(42);
        let (mut shown, mut golden) = (0usize, 0usize);
        for r in 0..2_000 {
            let round: Vec<String> = (0..4).map(|i| format!("{r}-{i}.jpg")).collect();
            let mixed = mix_gold(round, &gold, 0.1, &mut rng);
            assert_eq!(mixed.len(), 4);
            shown += mixed.len();
            golden += mixed.iter().filter(|m| m.starts_with("gold-")).count();
        }
        let share = golden as f64 / shown as f64;
        assert!((0.09..0.11).contains(&share), "{share}");
        // Off, or nothing to mix: the round as picked.
        let round = names(4);
        assert_eq!(mix_gold(round.clone(), &gold, 0.0, &mut rng), round);
        assert_eq!(mix_gold(round.clone(), &[], 1.0, &mut rng), round);
    }

    #[test]
    fn gold_mixing_is_deterministic_with_a_seed_and_never_repeats() {
        let gold = gold_names(3);
        let run = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..20)
                .map(|r| {
                    let round: Vec<String> = (0..4).map(|i| format!("{r}-{i}.jpg")).collect();
                    mix_gold(round, &gold, 0.5, &mut rng)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        for round in run(7) {
            let distinct: HashSet<&String> = round.iter().collect();
            assert_eq!(distinct.len(), round.len(), "{round:?}");
            assert!(round.iter().filter(|i| i.starts_with("gold-")).count() <= 3);
        }
        // Every place gold, and more gold than places: a whole round of distinct gold.
        let mut rng = fastrand::Rng::with_seed(1);
        let all = mix_gold(names(4), &gold_names(8), 1.0, &mut rng);
        assert!(all.iter().all(|i| i.starts_with("gold-")), "{all:?}");
        // The ordinary images ran out: no gold after them.
        let mut rng = fastrand::Rng::with_seed(1);
        let short = mix_gold(vec!["a.jpg".into()], &gold_names(8), 0.0001, &mut rng);
        assert_eq!(short, vec!["a.jpg".to_string()]);
    }

    #[test]
    fn only_gold_she_has_not_answered_is_open() {
        let mut summaries = HashMap::new();
        summaries.insert(
            "g1.jpg".to_string(),
            summary(&[("ann", AnswerKind::Vote(Vote::HotDog))]),
        );
        summaries.insert("g2.jpg".to_string(), summary(&[("ann", AnswerKind::Skip)]));
        // Done for everyone else (three votes), never answered by her: still open to her.
        summaries.insert(
            "g3.jpg".to_string(),
            summary(&[
                ("a", AnswerKind::Vote(Vote::HotDog)),
                ("b", AnswerKind::Vote(Vote::HotDog)),
                ("c", AnswerKind::Vote(Vote::HotDog)),
            ]),
        );
        let gold: Vec<String> = ["g1.jpg", "g2.jpg", "g3.jpg", "g4.jpg", "g5.jpg", "g6.jpg"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let sent = HashSet::from(["g4.jpg".to_string()]);
        let shown = HashSet::from(["g5.jpg".to_string()]);
        assert_eq!(
            open_gold(&gold, &summaries, "ann", &sent, &shown),
            vec!["g3.jpg".to_string(), "g6.jpg".to_string()]
        );
        assert_eq!(open_gold(&gold, &summaries, "bob", &sent, &shown).len(), 4);
    }

    #[test]
    fn progress_counts_done_images() {
        let mut summaries = HashMap::new();
        summaries.insert(
            "a".to_string(),
            summary(&[("x", AnswerKind::Vote(Vote::HotDog))]),
        );
        summaries.insert("b".to_string(), summary(&[("x", AnswerKind::Skip)]));
        let images = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        assert_eq!(progress(&images, &summaries, 1), (1, 3));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Whatever the pool: a round is distinct images, none done, answered, fully held
        /// or excluded, and no left-out image has fewer votes than one that was picked
        /// over it, except through the round size.
        #[test]
        fn rounds_respect_the_rules(
            spec in proptest::collection::vec((0u64..5, 0u64..3, any::<bool>(), any::<bool>(), any::<bool>()), 0..30),
            n_votes in 1u64..5,
            size in 1usize..6,
            seed in any::<u64>(),
        ) {
            let pool: Vec<PoolImage> = spec.iter().enumerate().map(|(i, (v, h, a, _, d))| PoolImage {
                name: format!("{}.jpg", i % 25), votes: *v, held_by_others: *h, answered_by_me: *a, decided: *d,
            }).collect();
            let exclude: HashSet<String> = spec.iter().enumerate().filter(|(_, s)| s.3).map(|(i, _)| format!("{}.jpg", i % 25)).collect();
            let mut rng = fastrand::Rng::with_seed(seed);
            let first: HashMap<&str, &PoolImage> = pool.iter().rev().map(|p| (p.name.as_str(), p)).collect();
            let eligible = |p: &PoolImage| !p.decided && p.votes < n_votes && !p.answered_by_me
                && p.votes + p.held_by_others < n_votes && !exclude.contains(&p.name);
            match choose_round(&pool, n_votes, &exclude, size, &mut rng) {
                RoundChoice::Round(r) => {
                    prop_assert!(!r.is_empty() && r.len() <= size);
                    prop_assert_eq!(r.iter().collect::<HashSet<_>>().len(), r.len());
                    for name in &r {
                        prop_assert!(eligible(first[name.as_str()]));
                    }
                    let worst = r.iter().map(|n| first[n.as_str()].votes + first[n.as_str()].held_by_others).max().unwrap_or(0);
                    let left_better = first.values().filter(|p| eligible(p) && !r.contains(&p.name))
                        .any(|p| p.votes + p.held_by_others < worst);
                    prop_assert!(!left_better);
                }
                RoundChoice::NothingLeft(left) => {
                    prop_assert!(first.values().all(|p| !eligible(p)));
                    prop_assert_eq!(left.total, first.len());
                }
            }
        }
    }
}
