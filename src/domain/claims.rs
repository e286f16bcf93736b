//! Reservations of the images a labeller is being shown, so that labellers working at the
//! same time are not all handed the last images that still need a vote. Each labeller has
//! one small file, `claims/<token>.txt` (the token is a hash of her name, so any name makes
//! a safe key): a header line with her name, then one `<claimed ms>\t<expires ms>\t<image>`
//! line per image she holds. Only she writes it; everyone lists `claims/` and reads the
//! files that changed. A claim counts until it expires or her answer for the image is in
//! its label file. Two labellers who claim the last vote of an image at the same moment
//! both see both claims once written: the later claim yields (`yields`).

use sha2::{Digest, Sha256};

/// How long a claim holds an image: long enough for a round on screen plus the prefetched
/// next one, short enough that a labeller who walks away does not hold them for long.
pub const CLAIM_TTL_MS: i64 = 5 * 60 * 1000;

pub const CLAIMS: &str = "claims/";

const HEADER: &str = "labeller\t";

/// One labeller holding one image since `claimed_ms` until `expires_ms` (milliseconds
/// since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub image: String,
    pub labeller: String,
    pub claimed_ms: i64,
    pub expires_ms: i64,
}

/// `claims/<16 hex digits of SHA-256(labeller)>.txt`.
pub fn claims_key(labeller: &str) -> String {
    let digest = Sha256::digest(labeller.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{CLAIMS}{hex}.txt")
}

/// The file a labeller writes for the images she holds: (image, claimed ms) pairs.
pub fn render(labeller: &str, images: &[(String, i64)], expires_ms: i64) -> String {
    let mut out = format!("{HEADER}{}\n", super::names::labeller_name(labeller));
    for (image, claimed_ms) in images {
        if !image.contains(['\n', '\r']) {
            out.push_str(&format!("{claimed_ms}\t{expires_ms}\t{image}\n"));
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
            let (claimed, rest) = l.split_once('\t')?;
            let (expires, image) = rest.split_once('\t')?;
            Some(Claim {
                image: image.to_string(),
                labeller: labeller.to_string(),
                claimed_ms: claimed.parse().ok()?,
                expires_ms: expires.parse().ok()?,
            })
        })
        .collect()
}

/// Whether `me`, holding `image` since `claimed_ms`, must give it up: the image has room
/// for `room` more votes (votes per image − current votes), and the live claims of
/// labellers who have not answered it (`answered`) that came before hers fill that room.
/// Earlier claims win; equal times go by name, so every labeller decides the same.
pub fn yields(
    claims: &[Claim],
    image: &str,
    me: &str,
    claimed_ms: i64,
    room: u64,
    answered: impl Fn(&str) -> bool,
    now_ms: i64,
) -> bool {
    let earlier = claims
        .iter()
        .filter(|c| {
            c.image == image
                && c.labeller != me
                && c.expires_ms > now_ms
                && !answered(&c.labeller)
                && (c.claimed_ms, c.labeller.as_str()) < (claimed_ms, me)
        })
        .map(|c| c.labeller.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len() as u64;
    earlier >= room
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_round_trip() {
        let text = render(
            "ann\tsmith",
            &[("1.jpg".into(), 5), ("a b.png".into(), 7)],
            99,
        );
        let claims = parse(text.as_bytes());
        assert_eq!(
            claims,
            vec![
                Claim {
                    image: "1.jpg".into(),
                    labeller: "ann smith".into(),
                    claimed_ms: 5,
                    expires_ms: 99
                },
                Claim {
                    image: "a b.png".into(),
                    labeller: "ann smith".into(),
                    claimed_ms: 7,
                    expires_ms: 99
                }
            ]
        );
        assert!(parse(b"garbage\n1\t2\tx\n").is_empty());
        assert_eq!(parse(b"labeller\tann\nsoon\t1\tx\n5\t6\ty\n").len(), 1);
    }

    fn claim(who: &str, at: i64) -> Claim {
        Claim {
            image: "x.jpg".into(),
            labeller: who.into(),
            claimed_ms: at,
            expires_ms: 1000,
        }
    }

    #[test]
    fn the_later_claim_yields_the_last_vote() {
        let claims = [claim("ann", 10), claim("bob", 20)];
        let nobody = |_: &str| false;
        // One vote left: bob came second and yields; ann keeps it, whoever looks.
        assert!(yields(&claims, "x.jpg", "bob", 20, 1, nobody, 0));
        assert!(!yields(&claims, "x.jpg", "ann", 10, 1, nobody, 0));
        // Two left: room for both.
        assert!(!yields(&claims, "x.jpg", "bob", 20, 2, nobody, 0));
        // Same moment: by name, so both decide alike.
        let tie = [claim("ann", 10), claim("bob", 10)];
        assert!(yields(&tie, "x.jpg", "bob", 10, 1, nobody, 0));
        assert!(!yields(&tie, "x.jpg", "ann", 10, 1, nobody, 0));
        // Expired, or answered already: not in the way.
        assert!(!yields(&claims, "x.jpg", "bob", 20, 1, nobody, 2000));
        assert!(!yields(&claims, "x.jpg", "bob", 20, 1, |w| w == "ann", 0));
    }

    #[test]
    fn keys_are_safe_for_any_name() {
        let k = claims_key("../../etc\n/passwd");
        assert!(k.starts_with("claims/") && k.ends_with(".txt"));
        assert_eq!(k.len(), "claims/".len() + 16 + 4);
        assert_ne!(claims_key("ann"), claims_key("bob"));
    }
}
