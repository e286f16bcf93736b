//! Agreement over the dataset, beyond chance: Krippendorff's α (nominal), Fleiss' κ, Gwet's
//! AC1 and the raw percent agreement. Each unit (image) is its count of votes per category;
//! the product has two categories, the tests use the published many-category examples.
//! Every figure says how many units it used; an undefined one is `None` ("not enough data").

use serde::{Deserialize, Serialize};

/// One agreement figure: its value (`None` when undefined: no pairs, a single class) and
/// the number of images it was computed over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub value: Option<f64>,
    pub images: usize,
}

impl Figure {
    fn of(value: Option<f64>, images: usize) -> Figure {
        Figure {
            value: value.filter(|v| v.is_finite()),
            images,
        }
    }
}

/// Fleiss' κ is defined for units with the same number of ratings: it is computed over the
/// images with the most common number of votes (at least 2; the larger number on a tie).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FleissFigure {
    pub value: Option<f64>,
    pub images: usize,
    /// The number of votes every image it used has (0 when none had 2 or more).
    pub votes_per_image: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    pub krippendorff_alpha: Figure,
    pub fleiss_kappa: FleissFigure,
    pub gwet_ac1: Figure,
    /// The chance of two votes on the same image agreeing (pairs within an image, averaged
    /// over images with 2 or more votes).
    pub percent_agreement: Figure,
}

/// A figure for the screen: its value to 3 decimals, or "not enough data".
pub fn shown(value: Option<f64>) -> String {
    value.map_or_else(|| NOT_ENOUGH_DATA.to_string(), |v| format!("{v:.3}"))
}

pub const NOT_ENOUGH_DATA: &str = "not enough data";

impl Agreement {
    /// One line: each figure with the images it used.
    pub fn line(&self) -> String {
        let k = &self.fleiss_kappa;
        format!(
            "Krippendorff's α {} ({} images) · Fleiss' κ {} ({} images with {} votes) · Gwet's AC1 {} ({} images) · percent agreement {} ({} images)",
            shown(self.krippendorff_alpha.value),
            self.krippendorff_alpha.images,
            shown(k.value),
            k.images,
            k.votes_per_image,
            shown(self.gwet_ac1.value),
            self.gwet_ac1.images,
            self.percent_agreement.value.map_or_else(
                || NOT_ENOUGH_DATA.to_string(),
                |v| format!("{:.1}%", v * 100.0)
            ),
            self.percent_agreement.images,
        )
    }
}

/// All four figures over the units (counts per category; every unit has the same length).
pub fn agreement<U: AsRef<[u64]>>(units: &[U]) -> Agreement {
    Agreement {
        krippendorff_alpha: krippendorff_alpha(units),
        fleiss_kappa: fleiss_kappa(units),
        gwet_ac1: gwet_ac1(units),
        percent_agreement: percent_agreement(units),
    }
}

fn total(u: &[u64]) -> u64 {
    u.iter().sum()
}

/// Σ_k n_k (n_k − 1) / (n (n − 1)) for a unit with n ≥ 2 values: its share of agreeing pairs.
fn unit_agreement(u: &[u64]) -> f64 {
    let n = total(u) as f64;
    let same: f64 = u.iter().map(|&c| (c as f64) * (c as f64 - 1.0)).sum();
    same / (n * (n - 1.0))
}

/// Krippendorff's α for nominal data (Krippendorff 2011, "Computing Krippendorff's
/// Alpha-Reliability"): the coincidence matrix over pairable values (units with 2 or more),
/// α = 1 − D_o / D_e.
pub fn krippendorff_alpha<U: AsRef<[u64]>>(units: &[U]) -> Figure {
    let pairable: Vec<&[u64]> = units
        .iter()
        .map(AsRef::as_ref)
        .filter(|u| total(u) >= 2)
        .collect();
    let categories = pairable.first().map_or(0, |u| u.len());
    let mut n_c = vec![0u64; categories];
    // Observed disagreement, times n: Σ_u (m_u² − Σ_c n_uc²) / (m_u − 1).
    let mut observed = 0.0;
    for u in &pairable {
        let m = total(u);
        let squares: u64 = u.iter().map(|c| c * c).sum();
        observed += (m * m - squares) as f64 / (m - 1) as f64;
        for (acc, c) in n_c.iter_mut().zip(u.iter()) {
            *acc += c;
        }
    }
    let n: u64 = n_c.iter().sum();
    let squares: u64 = n_c.iter().map(|c| c * c).sum();
    if n < 2 || n * n == squares {
        // No pairs, or every value in one category: chance agreement is perfect.
        return Figure::of(None, pairable.len());
    }
    // Expected disagreement, times n: (n² − Σ_c n_c²) / (n − 1).
    let expected = (n * n - squares) as f64 / (n - 1) as f64;
    Figure::of(Some(1.0 - observed / expected), pairable.len())
}

/// Fleiss (1971) κ over the images with the modal number of votes (see `FleissFigure`).
pub fn fleiss_kappa<U: AsRef<[u64]>>(units: &[U]) -> FleissFigure {
    let mut by_count: std::collections::BTreeMap<u64, usize> = Default::default();
    for u in units {
        let m = total(u.as_ref());
        if m >= 2 {
            *by_count.entry(m).or_default() += 1;
        }
    }
    // Most images; on a tie the larger count (later in the ascending map wins `max_by_key`).
    let Some((&m, _)) = by_count.iter().max_by_key(|(_, n)| **n) else {
        return FleissFigure {
            value: None,
            images: 0,
            votes_per_image: 0,
        };
    };
    let chosen: Vec<&[u64]> = units
        .iter()
        .map(AsRef::as_ref)
        .filter(|u| total(u) == m)
        .collect();
    let n = chosen.len() as f64;
    let categories = chosen.first().map_or(0, |u| u.len());
    let p_bar: f64 = chosen.iter().map(|u| unit_agreement(u)).sum::<f64>() / n;
    let mut p_e = 0.0;
    for k in 0..categories {
        let p_k = chosen.iter().map(|u| u[k]).sum::<u64>() as f64 / (n * m as f64);
        p_e += p_k * p_k;
    }
    let value = (p_e < 1.0).then(|| (p_bar - p_e) / (1.0 - p_e));
    FleissFigure {
        value: value.filter(|v| v.is_finite()),
        images: chosen.len(),
        votes_per_image: m,
    }
}

/// Gwet's AC1 for any number of raters (Gwet 2014, as in the irrCAC package): p_a over
/// images with 2 or more votes, chance agreement p_e = Σ_k π_k (1 − π_k) / (q − 1) with π_k
/// the mean share of category k over images with at least one vote, q the categories.
pub fn gwet_ac1<U: AsRef<[u64]>>(units: &[U]) -> Figure {
    let Figure {
        value: Some(p_a),
        images,
    } = percent_agreement(units)
    else {
        return Figure::of(None, 0);
    };
    let rated: Vec<&[u64]> = units
        .iter()
        .map(AsRef::as_ref)
        .filter(|u| total(u) >= 1)
        .collect();
    let q = rated.first().map_or(0, |u| u.len());
    if q < 2 {
        return Figure::of(None, images);
    }
    let mut p_e = 0.0;
    for k in 0..q {
        let pi_k = rated
            .iter()
            .map(|u| u[k] as f64 / total(u) as f64)
            .sum::<f64>()
            / rated.len() as f64;
        p_e += pi_k * (1.0 - pi_k);
    }
    p_e /= (q - 1) as f64;
    let value = (p_e < 1.0).then(|| (p_a - p_e) / (1.0 - p_e));
    Figure::of(value, images)
}

/// The mean share of agreeing vote pairs over images with 2 or more votes.
pub fn percent_agreement<U: AsRef<[u64]>>(units: &[U]) -> Figure {
    let mut sum = 0.0;
    let mut images = 0;
    for u in units.iter().map(AsRef::as_ref).filter(|u| total(u) >= 2) {
        sum += unit_agreement(u);
        images += 1;
    }
    Figure::of((images > 0).then(|| sum / images as f64), images)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < tol)
    }

    /// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four
    /// observers, twelve units, values 1–5, some missing. Published nominal α = 0.743. The
    /// same data is `cac.raw4raters` in Gwet's irrCAC R package, whose documented results
    /// are Fleiss' κ (generalised) 0.7612 and AC1 0.7754; AC1 here follows the same formula.
    /// Independently recomputed with tests/quality_reference.py's formulas (python3).
    fn krippendorff_example() -> Vec<Vec<u64>> {
        let raw: [[u8; 4]; 12] = [
            [1, 1, 0, 1],
            [2, 2, 3, 2],
            [3, 3, 3, 3],
            [3, 3, 3, 3],
            [2, 2, 2, 2],
            [1, 2, 3, 4],
            [4, 4, 4, 4],
            [1, 1, 2, 1],
            [2, 2, 2, 2],
            [0, 5, 5, 5],
            [0, 0, 1, 1],
            [0, 3, 0, 0],
        ];
        raw.iter()
            .map(|unit| {
                let mut counts = vec![0u64; 5];
                for &v in unit.iter().filter(|&&v| v > 0) {
                    counts[v as usize - 1] += 1;
                }
                counts
            })
            .collect()
    }

    #[test]
    fn krippendorff_reliability_data_example() {
        let units = krippendorff_example();
        let a = krippendorff_alpha(&units);
        assert!(close(a.value, 0.743, 0.0005), "{a:?}");
        assert_eq!(a.images, 11);
        let ac1 = gwet_ac1(&units);
        assert!(close(ac1.value, 0.7754, 0.00005), "{ac1:?}");
        assert_eq!(ac1.images, 11);
        let pa = percent_agreement(&units);
        assert!(close(pa.value, 9.0 / 11.0, 1e-12), "{pa:?}");
        // Fleiss over the images with the modal count: 8 images with 4 votes.
        let k = fleiss_kappa(&units);
        assert_eq!((k.images, k.votes_per_image), (8, 4));
    }

    /// Krippendorff (2011), section A: binary data, two observers, ten units; α = 0.095.
    #[test]
    fn krippendorff_binary_example() {
        let a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0];
        let b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0];
        let units: Vec<[u64; 2]> = a
            .iter()
            .zip(b)
            .map(|(&x, y)| {
                let mut c = [0u64; 2];
                c[x] += 1;
                c[y] += 1;
                c
            })
            .collect();
        let alpha = krippendorff_alpha(&units);
        assert!(close(alpha.value, 0.095, 0.0005), "{alpha:?}");
        assert_eq!(alpha.images, 10);
    }

    /// Fleiss (1971), Table 1: 30 psychiatric patients, 6 diagnoses each, 5 categories
    /// (depression, personality disorder, schizophrenia, neurosis, other). The paper gives
    /// P̄ = 0.556, P̄e = 0.220 and κ = 0.430.
    #[test]
    fn fleiss_1971_table() {
        let units: Vec<[u64; 5]> = vec![
            [0, 0, 0, 6, 0],
            [0, 3, 0, 0, 3],
            [0, 1, 4, 0, 1],
            [0, 0, 0, 0, 6],
            [0, 3, 0, 3, 0],
            [2, 0, 4, 0, 0],
            [0, 0, 4, 0, 2],
            [2, 0, 3, 1, 0],
            [2, 0, 0, 4, 0],
            [0, 0, 0, 0, 6],
            [1, 0, 0, 5, 0],
            [1, 1, 0, 4, 0],
            [0, 3, 3, 0, 0],
            [1, 0, 0, 5, 0],
            [0, 2, 0, 3, 1],
            [0, 0, 5, 0, 1],
            [3, 0, 0, 1, 2],
            [5, 1, 0, 0, 0],
            [0, 2, 0, 4, 0],
            [1, 0, 2, 0, 3],
            [0, 0, 0, 0, 6],
            [0, 1, 0, 5, 0],
            [0, 2, 0, 1, 3],
            [2, 0, 0, 4, 0],
            [1, 0, 0, 4, 1],
            [0, 5, 0, 1, 0],
            [4, 0, 0, 0, 2],
            [0, 2, 0, 4, 0],
            [1, 0, 5, 0, 0],
            [0, 0, 0, 0, 6],
        ];
        let k = fleiss_kappa(&units);
        assert!(close(k.value, 0.430, 0.0005), "{k:?}");
        assert_eq!((k.images, k.votes_per_image), (30, 6));
        assert!(close(percent_agreement(&units).value, 0.556, 0.0005));
    }

    /// Fleiss' κ worked example (the one on Wikipedia's "Fleiss' kappa" page: 10 subjects,
    /// 14 raters, 5 categories): P̄ = 0.378, P̄e = 0.213, κ = 0.210.
    #[test]
    fn fleiss_worked_example() {
        let units: Vec<[u64; 5]> = vec![
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ];
        let k = fleiss_kappa(&units);
        assert!(close(k.value, 0.210, 0.0005), "{k:?}");
        assert_eq!((k.images, k.votes_per_image), (10, 14));
        assert!(close(percent_agreement(&units).value, 0.378, 0.0005));
    }

    #[test]
    fn hand_computed_binary_case() {
        // Three images: [2 hot, 0 not], [1, 1], [0, 3].
        // Pairs: 2/2 agree, 0/2 agree, 6/6 agree → p_a = (1 + 0 + 1) / 3 = 2/3.
        // α: n_c = (3, 4), n = 7; D_o·n = 0 + 2/1 + 0 = 2; D_e·n = (49 − 25) / 6 = 4;
        // α = 1 − 2/4 = 0.5.
        // AC1: π_hot = (1 + 0.5 + 0) / 3 = 0.5, p_e = 0.25 + 0.25 = 0.5 → (2/3 − 0.5)/0.5 = 1/3.
        let units = [[2u64, 0], [1, 1], [0, 3]];
        let a = agreement(&units);
        assert!(close(a.krippendorff_alpha.value, 0.5, 1e-12));
        assert!(close(a.percent_agreement.value, 2.0 / 3.0, 1e-12));
        assert!(close(a.gwet_ac1.value, 1.0 / 3.0, 1e-12));
        // Modal count: 2 (two images) → [2,0],[1,1]: P̄ = 0.5, p = (3/4, 1/4),
        // Pe = 0.625 → κ = (0.5 − 0.625)/0.375 = −1/3.
        assert!(close(a.fleiss_kappa.value, -1.0 / 3.0, 1e-12));
        assert_eq!(
            (a.fleiss_kappa.images, a.fleiss_kappa.votes_per_image),
            (2, 2)
        );
    }

    #[test]
    fn undefined_cases_are_not_enough_data() {
        let none: [[u64; 2]; 0] = [];
        let a = agreement(&none);
        assert_eq!(a.krippendorff_alpha.value, None);
        assert_eq!(a.fleiss_kappa.value, None);
        assert_eq!(a.gwet_ac1.value, None);
        assert_eq!(a.percent_agreement.value, None);
        // Single votes only: no pairs.
        let single = [[1u64, 0], [0, 1]];
        assert_eq!(agreement(&single).krippendorff_alpha.value, None);
        // Everyone says hot dog: α and κ undefined (one class), raw agreement 1, AC1 1.
        let one_class = [[3u64, 0], [2, 0]];
        let a = agreement(&one_class);
        assert_eq!(a.krippendorff_alpha.value, None);
        assert_eq!(a.fleiss_kappa.value, None);
        assert_eq!(a.percent_agreement.value, Some(1.0));
        assert_eq!(a.gwet_ac1.value, Some(1.0));
        let json = serde_json::to_string(&a).unwrap();
        assert!(!json.contains("NaN") && json.contains("null"), "{json}");
    }
}
