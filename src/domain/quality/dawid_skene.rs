//! The Dawid–Skene estimate (Dawid & Skene 1979) for two classes, fitted by EM: each
//! labeller has a sensitivity (says hot dog when it is one) and a specificity (says not
//! when it is not), the dataset has a prior share of hot dogs, and each image gets the
//! posterior probability that it is a hot dog given its votes.
//!
//! Deterministic: labellers and images are indexed in sorted order and every sum runs in
//! index order, so the same votes give the same figures to the last bit. Anchored images
//! (a gold answer or a reviewer's decision) keep their posterior at 0 or 1 and teach the
//! model about the labellers who voted on them.
//!
//! The steps, exactly (tests/quality_reference.py repeats them):
//! 1. Start every image with votes at its share of hot-dog votes (majority-vote start).
//! 2. M-step: pooled sensitivity S̄ = (1 + Σ T·[hot]) / (2 + Σ T) and specificity
//!    C̄ = (1 + Σ (1−T)·[not]) / (2 + Σ (1−T)) over all votes; per labeller
//!    s_j = (k·S̄ + Σ_j T·[hot]) / (k + Σ_j T) and c_j likewise with k = `PRIOR_VOTES`
//!    (a weak Beta prior centred on the average, so a new labeller starts near it),
//!    clamped to [`CLAMP`, 1 − `CLAMP`]; prior π = (1 + Σ T) / (2 + images).
//! 3. E-step: T_i = σ(logit π + Σ_votes [hot: ln s − ln(1−c); not: ln(1−s) − ln c]).
//! 4. Repeat 2–3 until no posterior moves more than `TOLERANCE`, at most `MAX_ITERATIONS`.

use serde::{Deserialize, Serialize};

/// Strength of the prior on each labeller's sensitivity and specificity, in votes.
pub const PRIOR_VOTES: f64 = 2.0;
pub const MAX_ITERATIONS: u32 = 100;
pub const TOLERANCE: f64 = 1e-7;
/// Keeps rates off 0 and 1, where a single vote would be infinitely sure.
pub const CLAMP: f64 = 1e-4;

/// Votes by image in compressed rows: image `i`'s votes are `voter[starts[i]..starts[i+1]]`
/// and `hot[..]` the same range (`true` = hot dog).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VoteRows {
    pub labellers: usize,
    pub starts: Vec<usize>,
    pub voter: Vec<u32>,
    pub hot: Vec<bool>,
    /// Per image: its known answer (`Some(true)` hot dog), fixing its posterior.
    pub anchor: Vec<Option<bool>>,
}

impl VoteRows {
    pub fn images(&self) -> usize {
        self.anchor.len()
    }

    pub fn votes_of(&self, image: usize) -> std::ops::Range<usize> {
        self.starts[image]..self.starts[image + 1]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DawidSkene {
    /// Per image: P(hot dog); `None` for an image with neither votes nor an anchor.
    pub p_hotdog: Vec<Option<f64>>,
    /// Per labeller: P(says hot dog | hot dog).
    pub sensitivity: Vec<f64>,
    /// Per labeller: P(says not | not a hot dog).
    pub specificity: Vec<f64>,
    /// The estimated share of hot dogs.
    pub prior_hotdog: f64,
    pub iterations: u32,
    pub converged: bool,
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn clamp(p: f64) -> f64 {
    p.clamp(CLAMP, 1.0 - CLAMP)
}

/// Fits the model (steps in the module doc).
pub fn fit(rows: &VoteRows) -> DawidSkene {
    fit_capped(rows, MAX_ITERATIONS)
}

/// `fit` with another iteration cap (the tests stop it after one step).
pub fn fit_capped(rows: &VoteRows, max_iterations: u32) -> DawidSkene {
    let n_images = rows.images();
    let n_labellers = rows.labellers;
    // Posterior per image; NaN marks "no evidence" (not in any sum).
    let mut t: Vec<f64> = (0..n_images)
        .map(|i| match rows.anchor[i] {
            Some(hot) => f64::from(u8::from(hot)),
            None => {
                let r = rows.votes_of(i);
                if r.is_empty() {
                    f64::NAN
                } else {
                    let hot = rows.hot[r.clone()].iter().filter(|h| **h).count();
                    hot as f64 / r.len() as f64
                }
            }
        })
        .collect();
    let mut sensitivity = vec![0.5; n_labellers];
    let mut specificity = vec![0.5; n_labellers];
    let mut prior = 0.5;
    let mut iterations = 0;
    let mut converged = false;
    // Per labeller sums: Σ T·[hot], Σ T, Σ (1−T)·[not], Σ (1−T).
    let mut sums = vec![[0.0f64; 4]; n_labellers];
    // Per labeller log-likelihood ratio of a hot vote and of a not vote.
    let mut llr = vec![[0.0f64; 2]; n_labellers];
    while iterations < max_iterations {
        iterations += 1;
        // M-step.
        sums.iter_mut().for_each(|s| *s = [0.0; 4]);
        let (mut t_sum, mut evidence) = (0.0, 0usize);
        for (i, &ti) in t.iter().enumerate() {
            if ti.is_nan() {
                continue;
            }
            t_sum += ti;
            evidence += 1;
            for v in rows.votes_of(i) {
                let s = &mut sums[rows.voter[v] as usize];
                if rows.hot[v] {
                    s[0] += ti;
                } else {
                    s[2] += 1.0 - ti;
                }
                s[1] += ti;
                s[3] += 1.0 - ti;
            }
        }
        let mut pooled = [0.0f64; 4];
        for s in &sums {
            for k in 0..4 {
                pooled[k] += s[k];
            }
        }
        let mean_sens = (1.0 + pooled[0]) / (2.0 + pooled[1]);
        let mean_spec = (1.0 + pooled[2]) / (2.0 + pooled[3]);
        for j in 0..n_labellers {
            let s = sums[j];
            sensitivity[j] = clamp((PRIOR_VOTES * mean_sens + s[0]) / (PRIOR_VOTES + s[1]));
            specificity[j] = clamp((PRIOR_VOTES * mean_spec + s[2]) / (PRIOR_VOTES + s[3]));
            llr[j] = [
                sensitivity[j].ln() - (1.0 - specificity[j]).ln(),
                (1.0 - sensitivity[j]).ln() - specificity[j].ln(),
            ];
        }
        prior = clamp((1.0 + t_sum) / (2.0 + evidence as f64));
        // E-step.
        let base = prior.ln() - (1.0 - prior).ln();
        let mut moved = 0.0f64;
        for (i, ti) in t.iter_mut().enumerate() {
            if rows.anchor[i].is_some() {
                continue;
            }
            let r = rows.votes_of(i);
            if r.is_empty() {
                continue;
            }
            let mut log_odds = base;
            for v in r {
                log_odds += llr[rows.voter[v] as usize][usize::from(!rows.hot[v])];
            }
            let next = sigmoid(log_odds);
            moved = moved.max((next - *ti).abs());
            *ti = next;
        }
        if moved < TOLERANCE {
            converged = true;
            break;
        }
    }
    DawidSkene {
        p_hotdog: t.into_iter().map(|p| (!p.is_nan()).then_some(p)).collect(),
        sensitivity,
        specificity,
        prior_hotdog: prior,
        iterations,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows from (labeller, hot) votes per image, no anchors.
    fn rows(labellers: usize, images: &[&[(u32, bool)]]) -> VoteRows {
        let mut r = VoteRows {
            labellers,
            starts: vec![0],
            ..VoteRows::default()
        };
        for votes in images {
            for &(j, hot) in *votes {
                r.voter.push(j);
                r.hot.push(hot);
            }
            r.starts.push(r.voter.len());
            r.anchor.push(None);
        }
        r
    }

    #[test]
    fn unanimous_votes_are_confident_and_ties_of_equals_stay_even() {
        // Two labellers who always agree, on four images: 2 hot, 2 not; one more image
        // where they split. By symmetry π = 0.5 and s = c for both, so the split image
        // has log-odds ln s − ln(1−c) + ln(1−s) − ln c = 0 → exactly 0.5.
        let r = rows(
            2,
            &[
                &[(0, true), (1, true)],
                &[(0, true), (1, true)],
                &[(0, false), (1, false)],
                &[(0, false), (1, false)],
                &[(0, true), (1, false)],
                &[],
            ],
        );
        let m = fit(&r);
        assert!(m.converged);
        assert!((m.prior_hotdog - 0.5).abs() < 1e-9);
        let p = &m.p_hotdog;
        assert!(p[0].unwrap() > 0.9 && p[2].unwrap() < 0.1, "{p:?}");
        assert!((p[4].unwrap() - 0.5).abs() < 1e-9, "{p:?}");
        assert_eq!(p[5], None);
    }

    #[test]
    fn one_e_step_by_hand() {
        // One image, one vote (hot) by labeller 0, nothing else: the first M-step sees
        // T = 1: Σ T·[hot] = 1, Σ T = 1, Σ(1−T) = 0. S̄ = (1+1)/(2+1) = 2/3, C̄ = 1/2.
        // s = (2·2/3 + 1)/(2 + 1) = 7/9, c = (2·1/2 + 0)/(2 + 0) = 1/2, π = (1+1)/(2+1) = 2/3.
        // E-step: log-odds = ln 2 + ln(7/9) − ln(1/2) = ln(28/9) → T = 28/37.
        let r = rows(1, &[&[(0, true)]]);
        let one = fit_capped(&r, 1);
        assert_eq!(one.iterations, 1);
        assert!((one.sensitivity[0] - 7.0 / 9.0).abs() < 1e-12);
        assert!((one.specificity[0] - 0.5).abs() < 1e-12);
        assert!((one.prior_hotdog - 2.0 / 3.0).abs() < 1e-12);
        assert!((one.p_hotdog[0].unwrap() - 28.0 / 37.0).abs() < 1e-12);
        // Run to the end it stays a hot dog, pulled below 1 by the prior.
        let all = fit(&r);
        assert!(all.converged);
        let p = all.p_hotdog[0].unwrap();
        assert!(p > 0.5 && p < 1.0, "{p}");
    }

    #[test]
    fn a_careless_labeller_is_found_and_outvoted() {
        // Labellers 0, 1, 2 are right on all 20 images; labeller 3 always says hot dog.
        // Image 20: 0 says hot, 1 says not, 3 says hot, 2 did not vote. Every labeller
        // has always caught the hot dogs (pooled sensitivity ≈ 1) while false alarms
        // happen (labeller 3), so 1's "not" is strong evidence, 0's "hot" a plausible
        // false alarm, and 3's "hot" worth almost nothing: the model says not, though
        // the majority says hot.
        let mut images: Vec<Vec<(u32, bool)>> = Vec::new();
        for i in 0..20 {
            let truth = i % 2 == 0;
            images.push(vec![(0, truth), (1, truth), (2, truth), (3, true)]);
        }
        images.push(vec![(0, true), (1, false), (3, true)]);
        let refs: Vec<&[(u32, bool)]> = images.iter().map(Vec::as_slice).collect();
        let m = fit(&rows(4, &refs));
        assert!(m.converged, "{} iterations", m.iterations);
        assert!(m.specificity[3] < 0.2, "{:?}", m.specificity);
        assert!(m.sensitivity[3] > 0.9);
        assert!(m.specificity[0] > 0.8 && m.sensitivity[0] > 0.8);
        let last = m.p_hotdog[20].unwrap();
        assert!(last < 0.3, "{last}");
        // Majority on the odd images is 3–1 not: DS agrees, confidently.
        assert!(m.p_hotdog[1].unwrap() < 0.05);
    }

    #[test]
    fn anchors_fix_posteriors_and_teach_the_model() {
        // Labeller 0 votes against the gold answer on 5 anchored images; on a sixth,
        // unanchored image, her lone hot vote is then evidence for not.
        let one_hot: &[(u32, bool)] = &[(0, true)];
        let mut r = rows(1, &[one_hot; 6]);
        r.anchor = vec![Some(false); 5];
        r.anchor.push(None);
        let m = fit(&r);
        assert_eq!(m.p_hotdog[0], Some(0.0));
        assert!(m.sensitivity[0] > 0.0 && m.specificity[0] < 0.2);
        assert!(m.p_hotdog[5].unwrap() < 0.5, "{:?}", m.p_hotdog);
        // An anchored image without votes still counts towards the prior.
        let mut only = rows(1, &[&[]]);
        only.anchor = vec![Some(true)];
        assert_eq!(fit(&only).p_hotdog, vec![Some(1.0)]);
    }

    #[test]
    fn same_votes_same_bits() {
        let mut images: Vec<Vec<(u32, bool)>> = Vec::new();
        for i in 0..200u32 {
            images.push((0..5).map(|j| (j, (i * 7 + j * 3) % 5 < 2)).collect());
        }
        let refs: Vec<&[(u32, bool)]> = images.iter().map(Vec::as_slice).collect();
        let a = fit(&rows(5, &refs));
        let b = fit(&rows(5, &refs));
        assert_eq!(a, b);
        assert!(a.iterations <= MAX_ITERATIONS);
    }
}
