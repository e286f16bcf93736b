//! Which images need a reviewer: the contested ones — a tie among the current votes, or a
//! consensus whose confidence is under the review threshold — most doubtful first. An
//! image a reviewer has decided (an adjudication in its label file) is settled and leaves.

use super::stats::{ImageStats, Majority};

/// One image the review view lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Contested {
    pub image: String,
    pub hotdog: u64,
    pub not_hotdog: u64,
    /// The consensus label's posterior probability, when it is known.
    pub confidence: Option<f64>,
    /// As many hot-dog votes as not.
    pub tie: bool,
}

impl Contested {
    /// How sure the consensus is, for ordering: the confidence, or ½ for a tie without one.
    pub fn certainty(&self) -> f64 {
        match (self.confidence, self.tie) {
            (Some(c), _) => c,
            (None, _) => 0.5,
        }
    }

    /// Why it is listed, in words.
    pub fn reason(&self, below: f64) -> String {
        match (self.tie, self.confidence) {
            (true, _) => "tie".to_string(),
            (false, Some(c)) => format!("confidence {c:.2} < {below:.2}"),
            (false, None) => "contested".to_string(),
        }
    }
}

/// The contested images among `images`, most doubtful first (lowest confidence; then
/// ties; then the most votes, as more people disagreed; then by name). Adjudicated images
/// are settled and left out.
pub fn contested(images: &[ImageStats], below: f64) -> Vec<Contested> {
    let mut out: Vec<Contested> = images
        .iter()
        .filter(|s| s.votes > 0 && !s.adjudicated)
        .filter_map(|s| {
            let confidence = s.confidence;
            let tie = s.majority == Majority::Tie;
            let doubtful = confidence.is_some_and(|c| c < below);
            (tie || doubtful).then(|| Contested {
                image: s.image.clone(),
                hotdog: s.hotdog,
                not_hotdog: s.not_hotdog,
                confidence,
                tie,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.certainty()
            .total_cmp(&b.certainty())
            .then_with(|| b.tie.cmp(&a.tie))
            .then_with(|| (b.hotdog + b.not_hotdog).cmp(&(a.hotdog + a.not_hotdog)))
            .then_with(|| a.image.cmp(&b.image))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::label_file::VoteCounts;

    fn stats(name: &str, hotdog: u64, not_hotdog: u64) -> ImageStats {
        ImageStats::from_counts(name, VoteCounts { hotdog, not_hotdog }, 0)
    }

    #[test]
    fn ties_and_doubtful_images_most_doubtful_first() {
        let mut images = vec![
            stats("clear.jpg", 3, 0),
            stats("tie-2.jpg", 1, 1),
            stats("tie-4.jpg", 2, 2),
            stats("doubt.jpg", 2, 1),
            stats("unsure.jpg", 1, 2),
            stats("none.jpg", 0, 0),
            stats("decided.jpg", 1, 1),
        ];
        for s in &mut images {
            s.confidence = match s.image.as_str() {
                "clear.jpg" => Some(0.99),
                "doubt.jpg" => Some(0.7),
                "unsure.jpg" => Some(0.3),
                _ => None,
            };
            s.adjudicated = s.image == "decided.jpg";
        }
        let list = contested(&images, 0.8);
        let names: Vec<&str> = list.iter().map(|c| c.image.as_str()).collect();
        assert_eq!(names, ["unsure.jpg", "tie-4.jpg", "tie-2.jpg", "doubt.jpg"]);
        assert_eq!(list[0].reason(0.8), "confidence 0.30 < 0.80");
        assert_eq!(list[1].reason(0.8), "tie");
        // A higher threshold takes in the clear one too.
        assert_eq!(contested(&images, 1.0).len(), 5);
        // Without any confidence: the ties alone.
        for s in &mut images {
            s.confidence = None;
        }
        assert_eq!(contested(&images, 0.8).len(), 2);
    }
}
