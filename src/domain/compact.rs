//! Compact forms of the strings a store of 100,000 images holds by the hundred thousand:
//! hex digests kept as their bytes, anything else as written.
//!
//! - `AnswerId`: the product writes ids of 32 lowercase hex digits (a UUID); half a million
//!   are held, 24 bytes each and no allocation, where a `String` took 24 bytes plus a
//!   48-byte heap block.
//! - `LabelETag`: a label file's ETag as the statistics cache keeps it; the local store's
//!   and S3's (for a file written in one put) are an MD5-sized hex digest in quotes.

use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An answer's id.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum AnswerId {
    /// 32 lowercase hex digits, as bytes.
    Hex([u8; 16]),
    /// Any other id, exactly as written.
    Text(CompactString),
}

impl AnswerId {
    pub fn new(id: &str) -> AnswerId {
        match hex_bytes(id) {
            Some(bytes) => AnswerId::Hex(bytes),
            None => AnswerId::Text(CompactString::from(id)),
        }
    }
}

/// 32 lowercase hex digits as 16 bytes.
fn hex_bytes(id: &str) -> Option<[u8; 16]> {
    let digits = id.as_bytes();
    if digits.len() != 32 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 16];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// The bytes as lowercase hex digits (what `hex_bytes` read).
fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8; 16]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

impl fmt::Display for AnswerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnswerId::Hex(bytes) => write_hex(f, bytes),
            AnswerId::Text(text) => f.write_str(text),
        }
    }
}

impl fmt::Debug for AnswerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl From<&str> for AnswerId {
    fn from(id: &str) -> AnswerId {
        AnswerId::new(id)
    }
}

impl PartialEq<str> for AnswerId {
    fn eq(&self, other: &str) -> bool {
        match self {
            AnswerId::Hex(bytes) => hex_bytes(other) == Some(*bytes),
            AnswerId::Text(text) => text == other,
        }
    }
}

impl PartialEq<&str> for AnswerId {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

impl Serialize for AnswerId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AnswerId::Hex(_) => s.collect_str(self),
            AnswerId::Text(text) => s.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for AnswerId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AnswerId, D::Error> {
        let text = CompactString::deserialize(d)?;
        Ok(match hex_bytes(&text) {
            Some(bytes) => AnswerId::Hex(bytes),
            None => AnswerId::Text(text),
        })
    }
}

/// A label file's ETag: `"` + 32 lowercase hex digits + `"` as 16 bytes, anything else
/// as written. Compared with, and turned back into, the ETag the store gives.
#[derive(Clone, PartialEq, Eq)]
pub enum LabelETag {
    Quoted([u8; 16]),
    Text(Box<str>),
}

impl LabelETag {
    pub fn new(etag: &str) -> LabelETag {
        match etag
            .strip_prefix('"')
            .and_then(|e| e.strip_suffix('"'))
            .and_then(hex_bytes)
        {
            Some(bytes) => LabelETag::Quoted(bytes),
            None => LabelETag::Text(etag.into()),
        }
    }
}

impl fmt::Display for LabelETag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelETag::Quoted(bytes) => {
                f.write_str("\"")?;
                write_hex(f, bytes)?;
                f.write_str("\"")
            }
            LabelETag::Text(text) => f.write_str(text),
        }
    }
}

impl fmt::Debug for LabelETag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl PartialEq<str> for LabelETag {
    fn eq(&self, other: &str) -> bool {
        *self == LabelETag::new(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_products_ids_are_held_as_bytes_and_read_back_exactly() {
        let id = "0123456789abcdef0123456789abcdef";
        let held = AnswerId::new(id);
        assert!(matches!(held, AnswerId::Hex(_)));
        assert_eq!(held.to_string(), id);
        assert_eq!(held, *id);
        assert_eq!(serde_json::to_string(&held).unwrap(), format!("\"{id}\""));
        let back: AnswerId = serde_json::from_str(&format!("\"{id}\"")).unwrap();
        assert_eq!(back, held);
    }

    #[test]
    fn other_ids_are_kept_as_written() {
        // Upper case, a UUID with hyphens, an imported id, 31 and 33 digits, non-ASCII.
        for id in [
            "0123456789ABCDEF0123456789ABCDEF",
            "01234567-89ab-cdef-0123-456789abcdef",
            "orig:files/1.txt:3",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "ééééééééééééééééé",
            "",
        ] {
            let held = AnswerId::new(id);
            assert!(matches!(held, AnswerId::Text(_)), "{id}");
            assert_eq!(held.to_string(), id);
            assert_eq!(held, *id);
            let json = serde_json::to_string(&held).unwrap();
            assert_eq!(serde_json::from_str::<AnswerId>(&json).unwrap(), held);
        }
        assert_ne!(
            AnswerId::new("0123456789abcdef0123456789abcdef"),
            *"0123456789abcdef0123456789abcdee"
        );
    }

    #[test]
    fn it_is_as_small_as_a_string_header() {
        assert_eq!(std::mem::size_of::<AnswerId>(), 24);
    }

    #[test]
    fn etags_as_the_stores_give_them_come_back_exactly() {
        for etag in [
            "\"3778c4e716aff4a497b2258d12cfad48\"",
            "\"3778c4e716aff4a497b2258d12cfad48-2\"",
            "3778c4e716aff4a497b2258d12cfad48",
            "\"3778C4E716AFF4A497B2258D12CFAD48\"",
            "W/\"x\"",
            "",
        ] {
            let held = LabelETag::new(etag);
            assert_eq!(held.to_string(), etag);
            assert_eq!(held, *etag);
        }
        assert!(matches!(
            LabelETag::new("\"3778c4e716aff4a497b2258d12cfad48\""),
            LabelETag::Quoted(_)
        ));
        assert_ne!(
            LabelETag::new("\"3778c4e716aff4a497b2258d12cfad48\""),
            *"\"3778c4e716aff4a497b2258d12cfad49\""
        );
        assert_eq!(std::mem::size_of::<LabelETag>(), 24);
    }
}
