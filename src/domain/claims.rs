//! Reservations of the images a labeller is being shown, so that labellers working at the
//! same time are not all handed the last images that still need a vote. Each labeller has
//! one small file, `claims/<token>.txt` (the token is a hash of her name, so any name makes
//! a safe key): a header line with her name, then one `<expires ms>\t<image>` line per image
//! she holds. Only she writes it; everyone lists `claims/` and reads the files that changed.
//! A claim counts until it expires or her answer for the image is in its label file.

use sha2::{Digest, Sha256};

/// How long a claim holds an image: long enough for a round on screen plus the prefetched
/// next one, short enough that a labeller who walks away does not hold them for long.
pub const CLAIM_TTL_MS: i64 = 5 * 60 * 1000;

pub const CLAIMS: &str = "claims/";

const HEADER: &str = "labeller\t";

/// One labeller holding one image until `expires_ms` (milliseconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub image: String,
    pub labeller: String,
    pub expires_ms: i64,
}

/// `claims/<16 hex digits of SHA-256(labeller)>.txt`.
pub fn claims_key(labeller: &str) -> String {
    let digest = Sha256::digest(labeller.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{CLAIMS}{hex}.txt")
}

/// The file a labeller writes for the images she holds.
pub fn render(labeller: &str, images: &[String], expires_ms: i64) -> String {
    let mut out = format!("{HEADER}{}\n", super::names::labeller_name(labeller));
    for image in images {
        if !image.contains(['\n', '\r']) {
            out.push_str(&format!("{expires_ms}\t{image}\n"));
        }
    }
    out
}

/// Reads a claims file; unreadable lines are skipped (a claim is only a hint).
pub fn parse(bytes: &[u8]) -> Vec<Claim> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines();
    let Some(labeller) = lines.next().and_then(|l| l.strip_prefix(HEADER)) else {
        return Vec::new();
    };
    lines
        .filter_map(|l| {
            let (expires, image) = l.split_once('\t')?;
            Some(Claim {
                image: image.to_string(),
                labeller: labeller.to_string(),
                expires_ms: expires.parse().ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_round_trip() {
        let text = render("ann\tsmith", &["1.jpg".into(), "a b.png".into()], 99);
        let claims = parse(text.as_bytes());
        assert_eq!(
            claims,
            vec![
                Claim {
                    image: "1.jpg".into(),
                    labeller: "ann smith".into(),
                    expires_ms: 99
                },
                Claim {
                    image: "a b.png".into(),
                    labeller: "ann smith".into(),
                    expires_ms: 99
                }
            ]
        );
        assert!(parse(b"garbage\n1\tx\n").is_empty());
        assert_eq!(parse(b"labeller\tann\nsoon\tx\n5\ty\n").len(), 1);
    }

    #[test]
    fn keys_are_safe_for_any_name() {
        let k = claims_key("../../etc\n/passwd");
        assert!(k.starts_with("claims/") && k.ends_with(".txt"));
        assert_eq!(k.len(), "claims/".len() + 16 + 4);
        assert_ne!(claims_key("ann"), claims_key("bob"));
    }
}
