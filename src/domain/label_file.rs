//! The label-file format: one text file per image, one answer a line.
//!
//! `1\t2026-12-01T07:22:21Z\talice\t6f1c…` — the vote digit, then tab-separated RFC 3339
//! time, labeller name and a unique answer id. The original system's bare `1` / `0` lines
//! are read too. Malformed lines are counted and skipped, never fatal.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::names::labeller_name;

/// One labeller's verdict on one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Vote {
    /// `1`
    HotDog,
    /// `0`
    NotHotDog,
}

impl Vote {
    pub fn digit(self) -> char {
        match self {
            Vote::HotDog => '1',
            Vote::NotHotDog => '0',
        }
    }

    pub fn from_digit(c: &str) -> Option<Vote> {
        match c {
            "1" => Some(Vote::HotDog),
            "0" => Some(Vote::NotHotDog),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Vote::HotDog => "hot dog",
            Vote::NotHotDog => "not hot dog",
        }
    }
}

impl fmt::Display for Vote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One answer as written to a label file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub vote: Vote,
    /// RFC 3339 time the labeller gave the answer.
    pub at: String,
    pub labeller: String,
    /// Unique per answer; used to skip redelivered answers.
    pub answer_id: String,
}

impl Answer {
    /// The line as written, with a trailing newline. Fields are cleaned so a line never breaks.
    pub fn to_line(&self) -> String {
        format!(
            "{}\t{}\t{}\t{}\n",
            self.vote.digit(),
            clean_field(&self.at),
            labeller_name(&self.labeller),
            clean_field(&self.answer_id)
        )
    }
}

fn clean_field(s: &str) -> String {
    let cleaned: String = s.chars().filter(|c| !c.is_control()).take(128).collect();
    if cleaned.is_empty() {
        "-".to_string()
    } else {
        cleaned
    }
}

/// A line read back from a label file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelLine {
    Full(Answer),
    /// The original system's bare `1` or `0`.
    Bare(Vote),
}

impl LabelLine {
    pub fn vote(&self) -> Vote {
        match self {
            LabelLine::Full(a) => a.vote,
            LabelLine::Bare(v) => *v,
        }
    }
}

/// A parsed label file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelFile {
    pub lines: Vec<LabelLine>,
    /// Lines that were neither a full answer nor a bare vote.
    pub malformed: usize,
}

impl LabelFile {
    /// Reads any bytes; never fails. Invalid UTF-8 and malformed lines are counted, not fatal.
    pub fn parse(bytes: &[u8]) -> LabelFile {
        let text = String::from_utf8_lossy(bytes);
        let mut file = LabelFile::default();
        for raw in text.split('\n') {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.trim().is_empty() {
                continue;
            }
            match parse_line(line) {
                Some(l) => file.lines.push(l),
                None => file.malformed += 1,
            }
        }
        file
    }

    pub fn answer_ids(&self) -> HashSet<&str> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                LabelLine::Full(a) => Some(a.answer_id.as_str()),
                LabelLine::Bare(_) => None,
            })
            .collect()
    }

    pub fn counts(&self) -> VoteCounts {
        let mut c = VoteCounts::default();
        for l in &self.lines {
            c.add(l.vote());
        }
        c
    }
}

fn parse_line(line: &str) -> Option<LabelLine> {
    let mut fields = line.split('\t');
    let vote = Vote::from_digit(fields.next()?.trim())?;
    let Some(at) = fields.next() else {
        return Some(LabelLine::Bare(vote));
    };
    let labeller = fields.next()?;
    let answer_id = fields.next()?;
    if fields.next().is_some() || at.is_empty() || answer_id.is_empty() {
        return None;
    }
    Some(LabelLine::Full(Answer {
        vote,
        at: at.to_string(),
        labeller: labeller.to_string(),
        answer_id: answer_id.to_string(),
    }))
}

/// Hot-dog and not-hot-dog counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteCounts {
    pub hotdog: u64,
    pub not_hotdog: u64,
}

impl VoteCounts {
    pub fn add(&mut self, v: Vote) {
        match v {
            Vote::HotDog => self.hotdog += 1,
            Vote::NotHotDog => self.not_hotdog += 1,
        }
    }
    pub fn total(&self) -> u64 {
        self.hotdog + self.not_hotdog
    }
}

/// Appends the answers whose ids are not in `existing` yet. Existing bytes are kept as they
/// are (a missing final newline is added). Returns the new contents and how many were added;
/// duplicates within `new` are skipped too.
pub fn append_answers(existing: &[u8], new: &[Answer]) -> (Vec<u8>, usize) {
    let parsed = LabelFile::parse(existing);
    let mut seen: HashSet<&str> = parsed.answer_ids();
    let mut out = existing.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut added = 0;
    for a in new {
        if seen.insert(a.answer_id.as_str()) {
            out.extend_from_slice(a.to_line().as_bytes());
            added += 1;
        }
    }
    (out, added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(vote: Vote, id: &str) -> Answer {
        Answer {
            vote,
            at: "2026-12-01T07:22:21Z".into(),
            labeller: "ann".into(),
            answer_id: id.into(),
        }
    }

    #[test]
    fn lines_round_trip() {
        let a = answer(Vote::HotDog, "id-1");
        assert_eq!(a.to_line(), "1\t2026-12-01T07:22:21Z\tann\tid-1\n");
        assert_eq!(
            LabelFile::parse(a.to_line().as_bytes()).lines,
            vec![LabelLine::Full(a)]
        );
    }

    #[test]
    fn original_bare_lines_are_read() {
        let f = LabelFile::parse(b"1\n0\r\n1\n\n");
        assert_eq!(
            f.counts(),
            VoteCounts {
                hotdog: 2,
                not_hotdog: 1
            }
        );
        assert_eq!(f.malformed, 0);
    }

    #[test]
    fn malformed_lines_are_counted_and_skipped() {
        let f = LabelFile::parse(b"1\nyes\n2\n0\tonly-time\n1\ta\tb\tc\n\xff\xfe\n1\ta\tb\tc\td\n");
        assert_eq!(
            f.counts(),
            VoteCounts {
                hotdog: 2,
                not_hotdog: 0
            }
        );
        assert_eq!(f.malformed, 5);
    }

    #[test]
    fn names_with_tabs_cannot_break_the_format() {
        let mut a = answer(Vote::NotHotDog, "id\t2");
        a.labeller = "evil\tname\nhere".into();
        let f = LabelFile::parse(a.to_line().as_bytes());
        assert_eq!(f.malformed, 0);
        match &f.lines[0] {
            LabelLine::Full(b) => {
                assert_eq!(b.labeller, "evil name here");
                assert_eq!(b.answer_id, "id2");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn append_skips_known_ids_and_keeps_old_bytes() {
        let (bytes, added) = append_answers(b"1\n0", &[answer(Vote::HotDog, "a")]);
        assert_eq!(added, 1);
        assert!(bytes.starts_with(b"1\n0\n1\t"));
        let again = [
            answer(Vote::HotDog, "a"),
            answer(Vote::NotHotDog, "b"),
            answer(Vote::NotHotDog, "b"),
        ];
        let (bytes2, added2) = append_answers(&bytes, &again);
        assert_eq!(added2, 1);
        let f = LabelFile::parse(&bytes2);
        assert_eq!(
            f.counts(),
            VoteCounts {
                hotdog: 2,
                not_hotdog: 2
            }
        );
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn any_bytes_parse_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let f = LabelFile::parse(&bytes);
            let non_blank = String::from_utf8_lossy(&bytes).split('\n').filter(|l| !l.trim().is_empty()).count();
            prop_assert_eq!(f.lines.len() + f.malformed, non_blank);
        }

        #[test]
        fn appended_answers_always_read_back(names in proptest::collection::vec(any::<String>(), 1..5)) {
            let answers: Vec<Answer> = names.iter().enumerate().map(|(i, n)| Answer {
                vote: if i % 2 == 0 { Vote::HotDog } else { Vote::NotHotDog },
                at: n.clone(),
                labeller: n.clone(),
                answer_id: format!("id{i}{n}"),
            }).collect();
            let (bytes, added) = append_answers(b"1\n", &answers);
            let f = LabelFile::parse(&bytes);
            prop_assert_eq!(f.malformed, 0);
            prop_assert_eq!(f.lines.len(), 1 + added);
        }
    }
}
