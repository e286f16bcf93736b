//! The rules of the product, free of I/O: numbers and their summary, the label-file
//! format and which answers count, vote statistics, round sampling and claims, export
//! formats, the queue message shapes, importing the original system's labels, the gold
//! answers, and label quality (consensus with confidence, agreement, labeller scores).

pub mod claims;
pub mod compact;
pub mod export;
pub mod gold;
pub mod label_file;
pub mod label_index;
pub mod messages;
pub mod names;
pub mod numbers;
pub mod original;
pub mod quality;
pub mod review;
pub mod sampling;
pub mod stats;

/// Object keys in the bucket.
pub mod keys {
    pub const IMAGES: &str = "images/";
    pub const LABELS: &str = "labels/";
    pub const LOGS: &str = "logs/";
    pub const GOLD: &str = "gold/";
    /// The gold answers, one small text object (format in `domain::gold`).
    pub const GOLD_SET: &str = "gold/gold.txt";

    pub fn image(name: &str) -> String {
        format!("{IMAGES}{name}")
    }
    pub fn label_file(image: &str) -> String {
        format!("{LABELS}{image}.txt")
    }
    /// `labels/1.jpg.txt` → `1.jpg`.
    pub fn image_of_label_file(key: &str) -> Option<&str> {
        key.strip_prefix(LABELS)?.strip_suffix(".txt")
    }
    /// `YYYY-MM-DD-HHMMSS` (UTC) of a request's send time, in milliseconds since the epoch.
    pub fn log_stamp(sent_at_ms: i64) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp(sent_at_ms.div_euclid(1000))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        format!(
            "{:04}-{:02}-{:02}-{:02}{:02}{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    /// `logs/log_YYYY-MM-DD-HHMMSS-<request id>.txt`; the time is the request's send time,
    /// so a redelivered request maps to the same key.
    pub fn log(stamp: &str, request_id: &str) -> String {
        let id: String = request_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(100)
            .collect();
        format!("{LOGS}log_{stamp}-{id}.txt")
    }
}
