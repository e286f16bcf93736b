//! The label index: a derived copy of what the label files say, kept in the bucket so a
//! reader needs neither a listing of `images/` and `labels/` nor a read of every label
//! file. Images are spread over `SHARDS` shard objects by a stable hash of their name;
//! each shard holds, per image, whether its `images/` object exists and its label file's
//! ETag, size and `ImageSummary` (stored whole, through serde). The label files stay the
//! source of truth: the index is rebuilt from them when it is missing, of another format,
//! or found to differ. This module is the format and the merge rules, no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::label_file::ImageSummary;

/// Bump when what a summary means changes without its shape changing (a new rule in
/// `label_file::resolve`, say). Shape changes (a new `ImageSummary` field) change
/// `format()` by themselves.
pub const INDEX_VERSION: u32 = 1;
/// Shard objects: at 100,000 images about 400 images (≈ 120 KB) each, and one listing
/// page (≤ 1,000 keys) covers them all.
pub const SHARDS: u32 = 256;
pub const INDEX_PREFIX: &str = "index/";
pub const MANIFEST_KEY: &str = "index/manifest.json";

/// `index/shard-042.json`.
pub fn shard_key(shard: u32) -> String {
    format!("{INDEX_PREFIX}shard-{shard:03}.json")
}

/// `index/shard-042.json` → 42.
pub fn shard_of_key(key: &str) -> Option<u32> {
    key.strip_prefix(INDEX_PREFIX)?
        .strip_prefix("shard-")?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

/// The shard an image belongs to: FNV-1a over the name's bytes, stable across versions
/// and platforms (std's hasher is not).
pub fn shard_of(image: &str) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in image.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % u64::from(SHARDS)) as u32
}

/// The format every shard and the manifest carry: the version, the shard count and a
/// fingerprint of `ImageSummary`'s serialized shape, so an index written by a build with
/// other summary fields is seen as stale and rebuilt, never half-read.
pub fn format() -> String {
    let shape = serde_json::to_value(ImageSummary::default())
        .map(|v| shape_of(&v))
        .unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in shape.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("v{INDEX_VERSION}-s{SHARDS}-{h:016x}")
}

/// The field names of a JSON value, nested, in a canonical order.
fn shape_of(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}:{}", shape_of(v)))
                .collect();
            keys.sort();
            format!("{{{}}}", keys.join(","))
        }
        serde_json::Value::Array(_) => "[]".into(),
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(_) => "bool".into(),
        serde_json::Value::Number(_) => "num".into(),
        serde_json::Value::String(_) => "str".into(),
    }
}

/// A label file as the index knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedLabel {
    pub etag: String,
    /// The file's size: label files only grow through the product, so of two versions of
    /// one file the longer is the later.
    pub bytes: u64,
    pub summary: ImageSummary,
}

/// One image's entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// `images/<name>` exists.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub image: bool,
    /// `labels/<name>.txt`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<IndexedLabel>,
}

impl IndexEntry {
    fn is_empty(&self) -> bool {
        !self.image && self.label.is_none()
    }
}

/// One shard object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexShard {
    pub format: String,
    pub shard: u32,
    pub images: BTreeMap<String, IndexEntry>,
}

impl IndexShard {
    pub fn empty(shard: u32) -> IndexShard {
        IndexShard {
            format: format(),
            shard,
            images: BTreeMap::new(),
        }
    }

    /// `None` when the bytes are not a shard of this format (another build wrote it, or
    /// it is damaged): the caller treats the index as stale.
    pub fn decode(bytes: &[u8]) -> Option<IndexShard> {
        let shard: IndexShard = serde_json::from_slice(bytes).ok()?;
        (shard.format == format()).then_some(shard)
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Applies `update`; `true` when the shard changed.
    pub fn apply(&mut self, update: &IndexUpdate) -> bool {
        let name = update.image();
        let before = self.images.get(name).cloned().unwrap_or_default();
        let mut after = before.clone();
        match update {
            IndexUpdate::ImageAdded { .. } => after.image = true,
            IndexUpdate::LabelWritten { label, .. } => {
                // A writer that read an older version of the file may report after one
                // that read a newer: the longer file wins, so the order does not matter.
                after.image = true;
                if after
                    .label
                    .as_ref()
                    .is_none_or(|old| label.bytes >= old.bytes)
                {
                    after.label = Some(label.clone());
                }
            }
            IndexUpdate::Repair {
                expected, found, ..
            } => {
                // Compare-and-set per entry: if a writer changed the entry since the
                // repairer read it, the writer's is newer than what the repairer saw.
                if &before != expected {
                    return false;
                }
                after = found.clone();
            }
        }
        if after == before {
            return false;
        }
        if after.is_empty() {
            self.images.remove(name);
        } else {
            self.images.insert(name.to_string(), after);
        }
        true
    }
}

/// A change to the index.
// Updates live for one shard write and are moved, not stored: a `Repair` carrying two
// summaries inline costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexUpdate {
    /// An image was stored (upload, import).
    ImageAdded { image: String },
    /// The label file of an existing image was written (or read back) with this content.
    LabelWritten { image: String, label: IndexedLabel },
    /// A rebuild or verification found `found` where the index said `expected`.
    Repair {
        image: String,
        expected: IndexEntry,
        found: IndexEntry,
    },
}

impl IndexUpdate {
    pub fn image(&self) -> &str {
        match self {
            IndexUpdate::ImageAdded { image }
            | IndexUpdate::LabelWritten { image, .. }
            | IndexUpdate::Repair { image, .. } => image,
        }
    }

    pub fn label_written(image: &str, etag: &str, bytes: &[u8]) -> IndexUpdate {
        IndexUpdate::LabelWritten {
            image: image.to_string(),
            label: IndexedLabel {
                etag: etag.to_string(),
                bytes: bytes.len() as u64,
                summary: ImageSummary::from_bytes(bytes),
            },
        }
    }
}

/// The manifest: written last by a rebuild, so its presence says the index is complete,
/// and its format says which build can read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexManifest {
    pub format: String,
    pub shards: u32,
    /// RFC 3339 time of the rebuild that wrote it.
    pub built_at: String,
    /// Unique per rebuild, so a rebuild always changes the manifest's ETag and every
    /// reader reloads.
    #[serde(default)]
    pub build_id: String,
}

impl IndexManifest {
    pub fn new(built_at: String, build_id: String) -> IndexManifest {
        IndexManifest {
            format: format(),
            shards: SHARDS,
            built_at,
            build_id,
        }
    }

    /// `None` when missing, unreadable or of another format.
    pub fn decode(bytes: &[u8]) -> Option<IndexManifest> {
        let m: IndexManifest = serde_json::from_slice(bytes).ok()?;
        (m.format == format() && m.shards == SHARDS).then_some(m)
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(image: &str, text: &str) -> IndexUpdate {
        IndexUpdate::label_written(image, &format!("\"{}\"", text.len()), text.as_bytes())
    }

    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(shard_of("img-000001.png"), shard_of("img-000001.png"));
        assert_eq!(shard_of_key(&shard_key(42)), Some(42));
        assert_eq!(shard_of_key(MANIFEST_KEY), None);
        let mut counts = vec![0u32; SHARDS as usize];
        for i in 0..25_600 {
            counts[shard_of(&format!("img-{i:06}.png")) as usize] += 1;
        }
        // 100 a shard on average; none empty, none more than twice as full.
        assert!(counts.iter().all(|&c| (30..200).contains(&c)), "{counts:?}");
    }

    #[test]
    fn the_longer_file_wins_whatever_the_order() {
        let old = written("a.jpg", "1\n");
        let new = written("a.jpg", "1\n0\n");
        let mut x = IndexShard::empty(0);
        let mut y = IndexShard::empty(0);
        assert!(x.apply(&old) && x.apply(&new));
        assert!(y.apply(&new));
        assert!(!y.apply(&old), "an older version must not replace a newer");
        assert_eq!(x, y);
        assert_eq!(x.images["a.jpg"].label.as_ref().map(|l| l.bytes), Some(4));
        assert!(x.images["a.jpg"].image);
    }

    #[test]
    fn a_repair_yields_to_a_writer_that_came_between() {
        let mut s = IndexShard::empty(0);
        s.apply(&written("a.jpg", "1\n"));
        let seen = s.images["a.jpg"].clone();
        // A worker writes a newer version before the repair lands.
        s.apply(&written("a.jpg", "1\n1\n"));
        let repair = IndexUpdate::Repair {
            image: "a.jpg".into(),
            expected: seen.clone(),
            found: IndexEntry::default(),
        };
        assert!(!s.apply(&repair));
        assert!(s.images.contains_key("a.jpg"));
        // Unchanged since read: the repair applies (here: the image and file are gone).
        let now = s.images["a.jpg"].clone();
        let repair = IndexUpdate::Repair {
            image: "a.jpg".into(),
            expected: now,
            found: IndexEntry::default(),
        };
        assert!(s.apply(&repair));
        assert!(s.images.is_empty());
    }

    #[test]
    fn shards_round_trip_and_refuse_another_format() {
        let mut s = IndexShard::empty(3);
        s.apply(&IndexUpdate::ImageAdded {
            image: "b.jpg".into(),
        });
        s.apply(&written("c.jpg", "1\t2026-12-01T07:00:00Z\tann\tid1\n"));
        let back = IndexShard::decode(&s.encode());
        assert_eq!(back.as_ref(), Some(&s));
        let mut other = s.clone();
        other.format = "v0-s256-0000000000000000".into();
        assert_eq!(IndexShard::decode(&other.encode()), None);
        assert_eq!(IndexShard::decode(b"not json"), None);
        let m = IndexManifest::new("2026-12-01T07:00:00Z".into(), "b1".into());
        assert_eq!(IndexManifest::decode(&m.encode()), Some(m));
    }

    #[test]
    fn the_format_follows_the_summary_shape() {
        let f = format();
        assert!(f.starts_with(&format!("v{INDEX_VERSION}-s{SHARDS}-")));
        let shape = shape_of(&serde_json::to_value(ImageSummary::default()).unwrap_or_default());
        assert!(shape.contains("current") && shape.contains("votes:{"));
    }
}
