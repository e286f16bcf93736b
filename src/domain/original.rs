//! The original Python system's data, read for `import-original`: images at the root of a
//! bucket (or under a prefix) and one `files/<image stem>.txt` per image holding bare `1` /
//! `0` lines with no labeller. Each line becomes one anonymous vote whose answer id is
//! derived from where it came from (the source, the file's key and the line number), so an
//! import run twice writes nothing twice.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::label_file::{Answer, AnswerKind, Vote};
use super::names::split_extension;

/// The answer id of line `line` (1-based, counting every line of the file) of the original
/// label file `key` in `source` (`s3://bucket` or a folder's absolute path).
pub fn answer_id(source: &str, key: &str, line: usize) -> String {
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    let hex: String = h
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("orig-{hex}-{line}")
}

/// What one original label file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OriginalFile {
    /// One anonymous vote per bare `1` / `0` line.
    pub answers: Vec<Answer>,
    /// Non-blank lines that are not a bare vote (1-based line numbers), left out.
    pub unreadable_lines: Vec<usize>,
}

/// Reads an original label file. `at` is written as the answers' time: the original
/// recorded none, so it is the time of the import.
pub fn read_file(source: &str, key: &str, bytes: &[u8], at: &str) -> OriginalFile {
    let text = String::from_utf8_lossy(bytes);
    let mut out = OriginalFile::default();
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        match Vote::from_digit(line) {
            Some(v) => out.answers.push(Answer {
                kind: AnswerKind::Vote(v),
                at: at.to_string(),
                labeller: String::new(),
                answer_id: answer_id(source, key, i + 1),
            }),
            None => out.unreadable_lines.push(i + 1),
        }
    }
    out
}

/// `files/cat.txt` → `cat` (with `labels_prefix` = `files/`); `None` for anything else.
pub fn stem_of_label_key<'a>(key: &'a str, labels_prefix: &str) -> Option<&'a str> {
    let stem = key.strip_prefix(labels_prefix)?.strip_suffix(".txt")?;
    (!stem.is_empty() && !stem.contains('/')).then_some(stem)
}

/// Where each original label file's votes go: image stem → the name the image is stored
/// under now. Stems shared by several images (`1.jpg` and `1.png`) are ambiguous: their
/// votes cannot be placed and are reported instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StemMap {
    pub targets: HashMap<String, String>,
    pub ambiguous: HashMap<String, Vec<String>>,
}

/// `images` are (original file name, name stored under `images/`) pairs.
pub fn stem_map(images: &[(String, String)]) -> StemMap {
    let mut by_stem: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (original, stored) in images {
        let (stem, _) = split_extension(original);
        by_stem
            .entry(stem.to_string())
            .or_default()
            .push((original.clone(), stored.clone()));
    }
    let mut map = StemMap::default();
    for (stem, mut found) in by_stem {
        if found.len() == 1 {
            let (_, stored) = found.remove(0);
            map.targets.insert(stem, stored);
        } else {
            let mut names: Vec<String> = found.into_iter().map(|(o, _)| o).collect();
            names.sort();
            map.ambiguous.insert(stem, names);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::label_file::ImageSummary;

    #[test]
    fn each_line_is_its_own_anonymous_vote_with_a_stable_id() {
        let f = read_file("s3://old", "files/1.txt", b"1\n1\n\n0\nyes\r\n1", "T");
        assert_eq!(f.answers.len(), 4);
        assert_eq!(f.unreadable_lines, vec![5]);
        let ids: Vec<&str> = f.answers.iter().map(|a| a.answer_id.as_str()).collect();
        assert!(ids[0].ends_with("-1") && ids[1].ends_with("-2") && ids[2].ends_with("-4"));
        assert!(f.answers.iter().all(|a| a.labeller.is_empty()));
        // Read again: the same ids. Another file or source: different ones.
        let again = read_file("s3://old", "files/1.txt", b"1\n1\n\n0\nyes\r\n1", "later");
        assert_eq!(again.answers[3].answer_id, f.answers[3].answer_id);
        assert_ne!(
            answer_id("s3://old", "files/2.txt", 1),
            f.answers[0].answer_id
        );
        assert_ne!(
            answer_id("s3://other", "files/1.txt", 1),
            f.answers[0].answer_id
        );
        // Written and read back: four anonymous votes, none collapsed.
        let bytes: String = f.answers.iter().map(|a| a.to_line()).collect();
        let s = ImageSummary::from_bytes(bytes.as_bytes());
        assert_eq!(
            (s.votes.hotdog, s.votes.not_hotdog, s.anonymous_votes),
            (3, 1, 4)
        );
    }

    #[test]
    fn label_keys_map_to_stems() {
        assert_eq!(stem_of_label_key("files/1.txt", "files/"), Some("1"));
        assert_eq!(stem_of_label_key("files/a/1.txt", "files/"), None);
        assert_eq!(stem_of_label_key("files/.txt", "files/"), None);
        assert_eq!(stem_of_label_key("other/1.txt", "files/"), None);
    }

    #[test]
    fn shared_stems_are_ambiguous() {
        let m = stem_map(&[
            ("1.jpg".into(), "1.jpg".into()),
            ("2.jpg".into(), "2-2.jpg".into()),
            ("2.png".into(), "2.png".into()),
        ]);
        assert_eq!(m.targets.get("1").map(String::as_str), Some("1.jpg"));
        assert_eq!(
            m.ambiguous.get("2"),
            Some(&vec!["2.jpg".to_string(), "2.png".to_string()])
        );
    }
}
