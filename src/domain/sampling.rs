//! Choosing a labelling round: up to 4 distinct random images, preferring ones this
//! labeller has not labelled yet, then ones not shown in the previous round.

use std::collections::HashSet;

pub const ROUND_SIZE: usize = 4;

/// Picks up to `n` distinct images. Unlabelled-by-me images come first; among the rest,
/// images not in `avoid` (the last round) are preferred.
pub fn pick_round(
    images: &[String],
    labelled_by_me: &HashSet<String>,
    avoid: &HashSet<String>,
    n: usize,
    rng: &mut fastrand::Rng,
) -> Vec<String> {
    let mut tiers: [Vec<&String>; 4] = Default::default();
    for image in images {
        let tier =
            usize::from(labelled_by_me.contains(image)) * 2 + usize::from(avoid.contains(image));
        tiers[tier].push(image);
    }
    let mut round = Vec::with_capacity(n);
    let mut seen = HashSet::new();
    for tier in tiers.iter_mut() {
        rng.shuffle(tier);
        for image in tier.iter() {
            if round.len() == n {
                return round;
            }
            if seen.insert(*image) {
                round.push((*image).clone());
            }
        }
    }
    round
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{i}.jpg")).collect()
    }

    #[test]
    fn four_distinct_images() {
        let mut rng = fastrand::Rng::with_seed(1);
        let round = pick_round(&names(20), &HashSet::new(), &HashSet::new(), 4, &mut rng);
        assert_eq!(round.len(), 4);
        assert_eq!(round.iter().collect::<HashSet<_>>().len(), 4);
    }

    #[test]
    fn fewer_when_fewer_exist_and_none_when_empty() {
        let mut rng = fastrand::Rng::with_seed(2);
        assert_eq!(
            pick_round(&names(2), &HashSet::new(), &HashSet::new(), 4, &mut rng).len(),
            2
        );
        assert!(pick_round(&[], &HashSet::new(), &HashSet::new(), 4, &mut rng).is_empty());
        let dup = vec!["a".to_string(), "a".to_string()];
        assert_eq!(
            pick_round(&dup, &HashSet::new(), &HashSet::new(), 4, &mut rng),
            vec!["a".to_string()]
        );
    }

    #[test]
    fn prefers_images_not_labelled_by_me() {
        let all = names(10);
        let mine: HashSet<String> = all[..6].iter().cloned().collect();
        for seed in 0..50 {
            let mut rng = fastrand::Rng::with_seed(seed);
            let round = pick_round(&all, &mine, &HashSet::new(), 4, &mut rng);
            assert!(round.iter().all(|r| !mine.contains(r)), "{round:?}");
        }
        // only 2 unlabelled: both come first, then 2 labelled ones
        let mine: HashSet<String> = all[..8].iter().cloned().collect();
        let mut rng = fastrand::Rng::with_seed(3);
        let round = pick_round(&all, &mine, &HashSet::new(), 4, &mut rng);
        assert!(!mine.contains(&round[0]) && !mine.contains(&round[1]));
        assert!(mine.contains(&round[2]) && mine.contains(&round[3]));
    }

    #[test]
    fn avoids_the_last_round_when_it_can() {
        let all = names(8);
        let last: HashSet<String> = all[..4].iter().cloned().collect();
        let mut rng = fastrand::Rng::with_seed(4);
        let round = pick_round(&all, &HashSet::new(), &last, 4, &mut rng);
        assert!(round.iter().all(|r| !last.contains(r)));
    }
}
