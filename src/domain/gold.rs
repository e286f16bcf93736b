//! The gold set: images whose right answer is known, used to score labellers and to anchor
//! the consensus estimate. Kept in the bucket as one small text object, `keys::GOLD_SET`
//! (`gold/gold.txt`), one image a line:
//!
//! ```text
//! # hotdog-tui gold answers: image<TAB>1 (hot dog) or 0 (not hot dog)
//! 1.jpg<TAB>1
//! salad.png<TAB>0
//! ```
//!
//! Blank lines, and lines that start with `#` and hold no tab, are ignored (so an image
//! named `#1.jpg` is still an entry). Image names never contain a tab or
//! a control character (see `names::image_name_from_file_name`), so the tab separates
//! unambiguously. Reading is strict: every bad line is reported by number and nothing is
//! guessed, because a wrong gold answer would mark careful labellers wrong.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::label_file::Vote;

/// The header written at the top of the object.
pub const HEADER: &str = "# hotdog-tui gold answers: image<TAB>1 (hot dog) or 0 (not hot dog)";

/// Known answers by image name, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldSet {
    answers: BTreeMap<String, Vote>,
}

/// What is wrong with one line of the gold object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoldLineProblem {
    #[error("expected `image<TAB>1` or `image<TAB>0`, found no tab")]
    NoTab,
    #[error("the image name is empty")]
    EmptyImage,
    #[error("the image name contains a control character")]
    ControlCharacter,
    #[error("the answer is \"{0}\", expected 1 (hot dog) or 0 (not hot dog)")]
    BadVote(String),
    #[error("\"{image}\" is already listed on line {first}")]
    Duplicate { image: String, first: usize },
}

/// One bad line, numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct GoldLineError {
    pub line: usize,
    pub problem: GoldLineProblem,
}

/// Every bad line of a gold object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct GoldParseError {
    pub lines: Vec<GoldLineError>,
}

impl fmt::Display for GoldParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the gold answers ({}) have {} bad line{}: ",
            super::keys::GOLD_SET,
            self.lines.len(),
            if self.lines.len() == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.lines.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        f.write_str(" (fix them with `hotdog-tui gold set`/`gold rm`, or edit the object)")
    }
}

/// Why an image name cannot be a gold entry (the same rule `parse` applies).
pub fn check_image(image: &str) -> Result<(), GoldLineProblem> {
    if image.trim().is_empty() {
        Err(GoldLineProblem::EmptyImage)
    } else if image.chars().any(char::is_control) {
        Err(GoldLineProblem::ControlCharacter)
    } else {
        Ok(())
    }
}

impl GoldSet {
    pub fn new() -> GoldSet {
        GoldSet::default()
    }

    /// Reads the object's bytes; every bad line is reported (numbered from 1).
    pub fn parse(bytes: &[u8]) -> Result<GoldSet, GoldParseError> {
        let text = String::from_utf8_lossy(bytes);
        let mut set = GoldSet::default();
        let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
        let mut errors = Vec::new();
        for (i, raw) in text.split('\n').enumerate() {
            let n = i + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.trim().is_empty() || (line.starts_with('#') && !line.contains('\t')) {
                continue;
            }
            match parse_line(line) {
                Ok((image, vote)) => {
                    if let Some(&first) = first_line.get(image) {
                        errors.push(GoldLineError {
                            line: n,
                            problem: GoldLineProblem::Duplicate {
                                image: image.to_string(),
                                first,
                            },
                        });
                    } else {
                        first_line.insert(image.to_string(), n);
                        set.answers.insert(image.to_string(), vote);
                    }
                }
                Err(problem) => errors.push(GoldLineError { line: n, problem }),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(GoldParseError { lines: errors })
        }
    }

    /// The object's bytes: the header, then one line per image in name order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{HEADER}\n");
        for (image, vote) in &self.answers {
            out.push_str(image);
            out.push('\t');
            out.push(vote.digit());
            out.push('\n');
        }
        out.into_bytes()
    }

    /// Sets (or replaces) an image's known answer; returns the previous one.
    pub fn set(&mut self, image: &str, vote: Vote) -> Result<Option<Vote>, GoldLineProblem> {
        check_image(image)?;
        Ok(self.answers.insert(image.to_string(), vote))
    }

    /// Removes an image; returns its answer if it was listed.
    pub fn remove(&mut self, image: &str) -> Option<Vote> {
        self.answers.remove(image)
    }

    pub fn get(&self, image: &str) -> Option<Vote> {
        self.answers.get(image).copied()
    }

    pub fn contains(&self, image: &str) -> bool {
        self.answers.contains_key(image)
    }

    /// Entries in image-name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Vote)> {
        self.answers.iter().map(|(i, v)| (i.as_str(), *v))
    }

    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

impl FromIterator<(String, Vote)> for GoldSet {
    /// Entries whose image name `check_image` refuses are left out.
    fn from_iter<T: IntoIterator<Item = (String, Vote)>>(iter: T) -> Self {
        GoldSet {
            answers: iter
                .into_iter()
                .filter(|(image, _)| check_image(image).is_ok())
                .collect(),
        }
    }
}

fn parse_line(line: &str) -> Result<(&str, Vote), GoldLineProblem> {
    let (image, vote) = line.rsplit_once('\t').ok_or(GoldLineProblem::NoTab)?;
    check_image(image)?;
    let vote = vote.trim();
    let vote = Vote::from_digit(vote).ok_or_else(|| GoldLineProblem::BadVote(vote.into()))?;
    Ok((image, vote))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_in_name_order() {
        let mut g = GoldSet::new();
        assert_eq!(g.set("b.jpg", Vote::NotHotDog), Ok(None));
        assert_eq!(g.set("a dog.jpg", Vote::HotDog), Ok(None));
        assert_eq!(g.set("b.jpg", Vote::HotDog), Ok(Some(Vote::NotHotDog)));
        let bytes = g.to_bytes();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            format!("{HEADER}\na dog.jpg\t1\nb.jpg\t1\n")
        );
        assert_eq!(GoldSet::parse(&bytes), Ok(g.clone()));
        assert_eq!(g.remove("b.jpg"), Some(Vote::HotDog));
        assert_eq!(g.remove("b.jpg"), None);
        assert_eq!(
            g.iter().collect::<Vec<_>>(),
            vec![("a dog.jpg", Vote::HotDog)]
        );
        assert!(GoldSet::parse(b"").unwrap().is_empty());
    }

    #[test]
    fn comments_blank_lines_and_crlf_are_fine() {
        let g = GoldSet::parse(b"# note\r\n\r\nx.jpg\t0\r\n  \n#1.jpg\t1\n").unwrap();
        assert_eq!((g.len(), g.get("x.jpg")), (2, Some(Vote::NotHotDog)));
        assert_eq!(g.get("#1.jpg"), Some(Vote::HotDog));
    }

    #[test]
    fn every_bad_line_is_named() {
        let err = GoldSet::parse(b"ok.jpg\t1\nno-tab 1\n\t1\nx.jpg\tyes\nok.jpg\t0\n").unwrap_err();
        assert_eq!(
            err.lines,
            vec![
                GoldLineError {
                    line: 2,
                    problem: GoldLineProblem::NoTab
                },
                GoldLineError {
                    line: 3,
                    problem: GoldLineProblem::EmptyImage
                },
                GoldLineError {
                    line: 4,
                    problem: GoldLineProblem::BadVote("yes".into())
                },
                GoldLineError {
                    line: 5,
                    problem: GoldLineProblem::Duplicate {
                        image: "ok.jpg".into(),
                        first: 1
                    }
                },
            ]
        );
        let msg = err.to_string();
        assert!(msg.contains("gold/gold.txt") && msg.contains("4 bad lines"));
        assert!(msg.contains("line 4: the answer is \"yes\""));
    }

    #[test]
    fn names_that_would_break_the_format_are_refused() {
        let mut g = GoldSet::new();
        assert_eq!(
            g.set("a\nb", Vote::HotDog),
            Err(GoldLineProblem::ControlCharacter)
        );
        assert_eq!(g.set(" ", Vote::HotDog), Err(GoldLineProblem::EmptyImage));
        assert!(g.is_empty());
    }
}
