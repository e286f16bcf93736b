//! The label-file format and the rule for which of its answers count.
//!
//! One text file per image, one answer a line, tab-separated:
//! `<kind>\t<RFC 3339 time>\t<labeller>\t<answer id>`. The kind is the first field: `1` hot
//! dog, `0` not a hot dog, `s` skip ("can't tell"), `!1` / `!0` a reviewer's adjudication
//! (she decided the image is / is not a hot dog; the labeller field names the reviewer and
//! may not be empty). A new kind gets a new first field; an unknown first field is a
//! malformed line, never a vote, so older readers do not miscount newer files. An empty
//! labeller field is an anonymous vote (imported from the original system); the original's
//! bare `1` / `0` lines are anonymous votes too. Malformed lines are counted and skipped,
//! never fatal.
//!
//! Which answers count is decided in one place, `resolve`: a labeller's latest answer for an
//! image supersedes her earlier ones (the file keeps them all as the audit trail), and each
//! anonymous line is a vote of its own. Adjudications are a separate track: they are not
//! votes and never supersede anyone's vote (the reviewer's own included); the latest
//! adjudication of the image, by any reviewer, is the image's decision. `ImageSummary` is
//! what every reader (statistics, sampling, export, the detail view) builds on.

use std::collections::{HashMap, HashSet};
use std::fmt;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use super::compact::AnswerId;
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

/// What an answer says. Each kind has its own first field in the line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AnswerKind {
    /// `1` or `0`.
    Vote(Vote),
    /// `s`: the labeller cannot tell. Not a vote; the image is not shown to her again.
    Skip,
    /// `!1` or `!0`: a reviewer decided the image. Not a vote; the latest one is the
    /// image's decision (see `resolve`).
    Adjudication(Vote),
}

impl AnswerKind {
    /// The line's first field.
    pub fn code(self) -> &'static str {
        match self {
            AnswerKind::Vote(Vote::HotDog) => "1",
            AnswerKind::Vote(Vote::NotHotDog) => "0",
            AnswerKind::Skip => "s",
            AnswerKind::Adjudication(Vote::HotDog) => "!1",
            AnswerKind::Adjudication(Vote::NotHotDog) => "!0",
        }
    }

    pub fn from_code(code: &str) -> Option<AnswerKind> {
        match code {
            "1" => Some(AnswerKind::Vote(Vote::HotDog)),
            "0" => Some(AnswerKind::Vote(Vote::NotHotDog)),
            "s" => Some(AnswerKind::Skip),
            "!1" => Some(AnswerKind::Adjudication(Vote::HotDog)),
            "!0" => Some(AnswerKind::Adjudication(Vote::NotHotDog)),
            _ => None,
        }
    }

    /// The vote, for a vote only (an adjudication is not a vote).
    pub fn vote(self) -> Option<Vote> {
        match self {
            AnswerKind::Vote(v) => Some(v),
            AnswerKind::Skip | AnswerKind::Adjudication(_) => None,
        }
    }

    /// The decision, for an adjudication only.
    pub fn adjudication(self) -> Option<Vote> {
        match self {
            AnswerKind::Adjudication(v) => Some(v),
            AnswerKind::Vote(_) | AnswerKind::Skip => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AnswerKind::Vote(v) => v.label(),
            AnswerKind::Skip => "skip",
            AnswerKind::Adjudication(Vote::HotDog) => "decided: hot dog",
            AnswerKind::Adjudication(Vote::NotHotDog) => "decided: not hot dog",
        }
    }
}

impl From<Vote> for AnswerKind {
    fn from(v: Vote) -> Self {
        AnswerKind::Vote(v)
    }
}

impl fmt::Display for AnswerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One answer as written to a label file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub kind: AnswerKind,
    /// RFC 3339 time the labeller gave the answer.
    pub at: String,
    /// Empty for an anonymous answer (imported from the original system).
    pub labeller: String,
    /// Unique per answer; used to skip redelivered answers.
    pub answer_id: String,
}

impl Answer {
    /// The line as written, with a trailing newline. Fields are cleaned so a line never breaks.
    pub fn to_line(&self) -> String {
        let labeller = if self.labeller.is_empty() {
            String::new()
        } else {
            labeller_name(&self.labeller)
        };
        format!(
            "{}\t{}\t{labeller}\t{}\n",
            self.kind.code(),
            clean_field(&self.at),
            clean_field(&self.answer_id)
        )
    }

    /// `None` for an anonymous answer.
    pub fn labeller(&self) -> Option<&str> {
        (!self.labeller.is_empty()).then_some(self.labeller.as_str())
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
    /// The original system's bare `1` or `0`: an anonymous vote.
    Bare(Vote),
}

impl LabelLine {
    pub fn kind(&self) -> AnswerKind {
        match self {
            LabelLine::Full(a) => a.kind,
            LabelLine::Bare(v) => AnswerKind::Vote(*v),
        }
    }

    /// The labeller, or `None` for an anonymous line.
    pub fn labeller(&self) -> Option<&str> {
        match self {
            LabelLine::Full(a) => a.labeller(),
            LabelLine::Bare(_) => None,
        }
    }

    pub fn at(&self) -> Option<&str> {
        match self {
            LabelLine::Full(a) => Some(a.at.as_str()),
            LabelLine::Bare(_) => None,
        }
    }

    pub fn answer_id(&self) -> Option<&str> {
        match self {
            LabelLine::Full(a) => Some(a.answer_id.as_str()),
            LabelLine::Bare(_) => None,
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
        self.lines.iter().filter_map(LabelLine::answer_id).collect()
    }
}

fn parse_line(line: &str) -> Option<LabelLine> {
    let mut fields = line.split('\t');
    let code = fields.next()?.trim();
    let Some(at) = fields.next() else {
        // Only the original's bare votes stand alone; a bare `s` is nothing we wrote.
        return Vote::from_digit(code).map(LabelLine::Bare);
    };
    let kind = AnswerKind::from_code(code)?;
    let labeller = fields.next()?;
    let answer_id = fields.next()?;
    if fields.next().is_some() || at.is_empty() || answer_id.is_empty() {
        return None;
    }
    // An adjudication says who decided; without a reviewer it is nothing we wrote.
    if kind.adjudication().is_some() && labeller.is_empty() {
        return None;
    }
    Some(LabelLine::Full(Answer {
        kind,
        at: at.to_string(),
        labeller: labeller.to_string(),
        answer_id: answer_id.to_string(),
    }))
}

/// Whether a line still counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// The labeller's latest answer for the image (every anonymous line is one of these).
    Current,
    /// A later answer by the same labeller replaced it.
    Superseded,
}

/// THE rule, one standing per line of `file` (same order): a named labeller's latest answer
/// (vote or skip) is current and her earlier ones are superseded; each anonymous line (bare,
/// or with an empty labeller) is current, a vote of its own. Adjudications form their own
/// track: the image's latest adjudication, whoever wrote it, is current and earlier ones are
/// superseded; an adjudication never supersedes a vote or skip (the reviewer's own included)
/// and is never superseded by one. "Latest" is by answer time (RFC 3339, parsed, so
/// `…21.5Z` is after `…21Z`), then by position in the file; an unreadable time sorts before
/// any readable one.
pub fn resolve(file: &LabelFile) -> Vec<Standing> {
    let mut standing = vec![Standing::Current; file.lines.len()];
    let mut by_labeller: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut adjudications: Vec<usize> = Vec::new();
    for (i, line) in file.lines.iter().enumerate() {
        if line.kind().adjudication().is_some() {
            adjudications.push(i);
        } else if let Some(who) = line.labeller() {
            by_labeller.entry(who).or_default().push(i);
        }
    }
    let tracks = by_labeller
        .values()
        .chain(std::iter::once(&adjudications))
        .filter(|l| l.len() > 1);
    for lines in tracks {
        // Times are parsed only where a labeller answered more than once: most files have
        // one answer per labeller, and parsing is the costly part of reading a file.
        let latest = lines
            .iter()
            .copied()
            .max_by_key(|&i| (file.lines[i].at().and_then(parse_time), i));
        for &i in lines {
            if Some(i) != latest {
                standing[i] = Standing::Superseded;
            }
        }
    }
    standing
}

fn parse_time(at: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
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

/// A named labeller's current answer (her latest vote or skip) for one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
///
/// Half a million of these are held for a store of 100,000 images, so each is 80 bytes with
/// no allocation of its own: names and times of up to 24 bytes are stored inline (the
/// product's times are exactly 24), the product's answer ids as their 16 bytes.
pub struct CurrentAnswer {
    pub labeller: CompactString,
    /// `None`: a skip.
    pub vote: Option<Vote>,
    /// RFC 3339, as written in the file.
    pub at: CompactString,
    pub answer_id: AnswerId,
}

/// The image's decision: its latest adjudication line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjudication {
    pub vote: Vote,
    /// The reviewer.
    pub by: String,
    /// RFC 3339, as written in the file.
    pub at: String,
    pub answer_id: String,
}

/// What one label file says under the rule: a plain value computed from the file's bytes
/// alone, so it can be cached or indexed per file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// Current votes: one per labeller whose latest answer is a vote, plus anonymous votes.
    /// Adjudications are not votes.
    pub votes: VoteCounts,
    /// Of those, anonymous votes (the original system's, imported or bare).
    pub anonymous_votes: u64,
    /// Labellers whose latest answer is a skip.
    pub skips: u64,
    /// Every readable line, superseded ones and adjudications included.
    pub answers: u64,
    /// Lines a later line of the same track replaced (see `resolve`).
    pub superseded: u64,
    /// Lines that could not be read.
    pub malformed: usize,
    /// The latest time among the current lines that carry one (adjudication included).
    pub last_answer_at: Option<CompactString>,
    /// Each named labeller's current answer, sorted by labeller. Anonymous votes are only
    /// in `votes` / `anonymous_votes` (see `anonymous_counts`).
    #[serde(default)]
    /// A boxed slice, not a `Vec`: exactly as long as it is (100,000 of these are held).
    pub current: Box<[CurrentAnswer]>,
    /// The image's decision by a reviewer, if any: its latest adjudication.
    #[serde(default)]
    /// Boxed: few images have one, and 100,000 summaries are held.
    pub adjudication: Option<Box<Adjudication>>,
}

impl ImageSummary {
    pub fn from_bytes(bytes: &[u8]) -> ImageSummary {
        ImageSummary::from_file(&LabelFile::parse(bytes))
    }

    pub fn from_file(file: &LabelFile) -> ImageSummary {
        let mut s = ImageSummary {
            malformed: file.malformed,
            answers: file.lines.len() as u64,
            ..ImageSummary::default()
        };
        let mut latest: Option<(time::OffsetDateTime, &str)> = None;
        let mut current = Vec::new();
        for (line, standing) in file.lines.iter().zip(resolve(file)) {
            if standing == Standing::Superseded {
                s.superseded += 1;
                continue;
            }
            match (line.kind(), line.labeller()) {
                (AnswerKind::Vote(v), who) => {
                    s.votes.add(v);
                    if who.is_none() {
                        s.anonymous_votes += 1;
                    }
                }
                (AnswerKind::Skip, _) => s.skips += 1,
                (AnswerKind::Adjudication(vote), who) => {
                    // `parse_line` keeps only adjudications that name their reviewer.
                    if let LabelLine::Full(a) = line {
                        s.adjudication = Some(Box::new(Adjudication {
                            vote,
                            by: who.unwrap_or_default().to_string(),
                            at: a.at.clone(),
                            answer_id: a.answer_id.clone(),
                        }));
                    }
                }
            }
            if let (Some(who), LabelLine::Full(a)) = (line.labeller(), line)
                && line.kind().adjudication().is_none()
            {
                current.push(CurrentAnswer {
                    labeller: CompactString::from(who),
                    vote: a.kind.vote(),
                    at: CompactString::from(a.at.as_str()),
                    answer_id: AnswerId::new(&a.answer_id),
                });
            }
            if let Some(at) = line.at()
                && let Some(t) = parse_time(at)
                && latest.is_none_or(|(l, _)| t > l)
            {
                latest = Some((t, at));
            }
        }
        s.last_answer_at = latest.map(|(_, at)| CompactString::from(at));
        current.sort_by(|a, b| a.labeller.cmp(&b.labeller));
        s.current = current.into_boxed_slice();
        s
    }

    /// The anonymous current votes by class (every vote not in `current`).
    pub fn anonymous_counts(&self) -> VoteCounts {
        let mut named = VoteCounts::default();
        for v in self.current.iter().filter_map(|a| a.vote) {
            named.add(v);
        }
        VoteCounts {
            hotdog: self.votes.hotdog.saturating_sub(named.hotdog),
            not_hotdog: self.votes.not_hotdog.saturating_sub(named.not_hotdog),
        }
    }

    /// The named labeller's current answer: `Some(Some(vote))`, `Some(None)` for a skip.
    pub fn current_answer(&self, labeller: &str) -> Option<Option<Vote>> {
        self.current
            .binary_search_by(|a| a.labeller.as_str().cmp(labeller))
            .ok()
            .map(|i| self.current[i].vote)
    }

    /// Current votes (labellers with a current vote, plus anonymous votes).
    pub fn vote_count(&self) -> u64 {
        self.votes.total()
    }

    /// Has `votes_per_image` current votes, or a reviewer decided it: the image leaves the
    /// labelling pool (a decision settles it; more votes would not change its label).
    pub fn is_done(&self, votes_per_image: u64) -> bool {
        self.adjudication.is_some() || self.vote_count() >= votes_per_image
    }

    /// She answered it (vote or skip; `current` holds each named labeller's latest
    /// answer): the image is not shown to her again. An adjudication does not count.
    pub fn answered_by(&self, labeller: &str) -> bool {
        self.current_answer(labeller).is_some()
    }
}

/// Appends the answers whose ids are not in `existing` yet. Existing bytes are kept as they
/// are (a missing final newline is added). Returns the new contents and how many were added;
/// duplicates within `new` are skipped too.
pub fn append_answers(existing: &[u8], new: &[Answer]) -> (Vec<u8>, usize) {
    let (out, added) = append_answers_marked(existing, new);
    (out, added.iter().filter(|a| **a).count())
}

/// `append_answers`, saying for each of `new` whether it was added (`false`: its id was
/// there already, or earlier in `new`).
pub fn append_answers_marked(existing: &[u8], new: &[Answer]) -> (Vec<u8>, Vec<bool>) {
    let parsed = LabelFile::parse(existing);
    let mut seen: HashSet<&str> = parsed.answer_ids();
    let mut out = existing.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut added = Vec::with_capacity(new.len());
    for a in new {
        let fresh = seen.insert(a.answer_id.as_str());
        if fresh {
            out.extend_from_slice(a.to_line().as_bytes());
        }
        added.push(fresh);
    }
    (out, added)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(kind: impl Into<AnswerKind>, id: &str) -> Answer {
        by("ann", kind, "2026-12-01T07:22:21Z", id)
    }

    fn by(who: &str, kind: impl Into<AnswerKind>, at: &str, id: &str) -> Answer {
        Answer {
            kind: kind.into(),
            at: at.into(),
            labeller: who.into(),
            answer_id: id.into(),
        }
    }

    fn file_of(answers: &[Answer]) -> Vec<u8> {
        answers
            .iter()
            .map(Answer::to_line)
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn lines_round_trip() {
        let a = answer(Vote::HotDog, "id-1");
        assert_eq!(a.to_line(), "1\t2026-12-01T07:22:21Z\tann\tid-1\n");
        assert_eq!(
            LabelFile::parse(a.to_line().as_bytes()).lines,
            vec![LabelLine::Full(a)]
        );
        let s = answer(AnswerKind::Skip, "id-2");
        assert_eq!(s.to_line(), "s\t2026-12-01T07:22:21Z\tann\tid-2\n");
        assert_eq!(
            LabelFile::parse(s.to_line().as_bytes()).lines,
            vec![LabelLine::Full(s)]
        );
        let anon = by("", Vote::NotHotDog, "2026-12-01T07:22:21Z", "orig-1");
        assert_eq!(anon.to_line(), "0\t2026-12-01T07:22:21Z\t\torig-1\n");
        let back = LabelFile::parse(anon.to_line().as_bytes());
        assert_eq!(back.lines[0].labeller(), None);
    }

    #[test]
    fn original_bare_lines_are_anonymous_votes() {
        let s = ImageSummary::from_bytes(b"1\n0\r\n1\n\n");
        assert_eq!(
            s.votes,
            VoteCounts {
                hotdog: 2,
                not_hotdog: 1
            }
        );
        assert_eq!((s.anonymous_votes, s.malformed, s.answers), (3, 0, 3));
        assert!(s.current.is_empty());
    }

    #[test]
    fn malformed_lines_are_counted_and_skipped() {
        let f =
            LabelFile::parse(b"1\nyes\n2\n0\tonly-time\n1\ta\tb\tc\n\xff\xfe\n1\ta\tb\tc\td\ns\n");
        assert_eq!(f.lines.len(), 2);
        assert_eq!(f.malformed, 6);
    }

    #[test]
    fn an_unknown_kind_is_malformed_not_a_vote() {
        // A future kind must not count as anything today.
        let s = ImageSummary::from_bytes(b"?1\t2026-12-01T07:22:21Z\treviewer\tid-9\n1\n");
        assert_eq!((s.vote_count(), s.skips, s.malformed), (1, 0, 1));
    }

    #[test]
    fn adjudication_lines_round_trip() {
        let a = by(
            "rev",
            AnswerKind::Adjudication(Vote::HotDog),
            "2026-12-01T07:22:21Z",
            "r1",
        );
        assert_eq!(a.to_line(), "!1\t2026-12-01T07:22:21Z\trev\tr1\n");
        assert_eq!(
            LabelFile::parse(a.to_line().as_bytes()).lines,
            vec![LabelLine::Full(a)]
        );
        let n = by(
            "rev",
            AnswerKind::Adjudication(Vote::NotHotDog),
            "2026-12-01T07:22:21Z",
            "r2",
        );
        assert_eq!(n.to_line(), "!0\t2026-12-01T07:22:21Z\trev\tr2\n");
        assert_eq!(AnswerKind::from_code("!0"), Some(n.kind));
        assert_eq!(
            (n.kind.vote(), n.kind.adjudication()),
            (None, Some(Vote::NotHotDog))
        );
        // Without a reviewer, or bare, it is nothing we wrote.
        let f = LabelFile::parse(
            b"!1\t2026-12-01T07:22:21Z\t\tr3\n!1\n!x\t2026-12-01T07:22:21Z\trev\tr4\n",
        );
        assert_eq!((f.lines.len(), f.malformed), (0, 3));
    }

    #[test]
    fn an_adjudication_is_not_a_vote_and_supersedes_no_vote() {
        // rev votes 0, then decides 1: her vote stands and the decision is separate.
        let bytes = file_of(&[
            by("ann", Vote::HotDog, "2026-12-01T07:00:00Z", "a1"),
            by("rev", Vote::NotHotDog, "2026-12-01T07:00:01Z", "v1"),
            by(
                "rev",
                AnswerKind::Adjudication(Vote::HotDog),
                "2026-12-01T07:00:02Z",
                "r1",
            ),
            by("", Vote::NotHotDog, "2026-12-01T06:00:00Z", "orig"),
        ]);
        let f = LabelFile::parse(&bytes);
        assert_eq!(resolve(&f), vec![Standing::Current; 4]);
        let s = ImageSummary::from_file(&f);
        assert_eq!(
            s.votes,
            VoteCounts {
                hotdog: 1,
                not_hotdog: 2
            }
        );
        assert_eq!(
            (s.answers, s.superseded, s.skips, s.anonymous_votes),
            (4, 0, 0, 1)
        );
        assert_eq!(
            s.adjudication,
            Some(Box::new(Adjudication {
                vote: Vote::HotDog,
                by: "rev".into(),
                at: "2026-12-01T07:00:02Z".into(),
                answer_id: "r1".into()
            }))
        );
        assert_eq!(s.last_answer_at.as_deref(), Some("2026-12-01T07:00:02Z"));
        assert_eq!(s.current_answer("rev"), Some(Some(Vote::NotHotDog)));
        assert_eq!(s.current_answer("ann"), Some(Some(Vote::HotDog)));
        assert_eq!(s.current_answer("zed"), None);
        assert_eq!(
            s.anonymous_counts(),
            VoteCounts {
                hotdog: 0,
                not_hotdog: 1
            }
        );
        // A vote after her adjudication does not replace the decision either.
        let (later, _) = append_answers(
            &bytes,
            &[by("rev", Vote::HotDog, "2026-12-01T07:00:03Z", "v2")],
        );
        let s = ImageSummary::from_bytes(&later);
        assert_eq!(s.adjudication.map(|a| a.vote), Some(Vote::HotDog));
        assert_eq!((s.votes.hotdog, s.superseded), (2, 1));
    }

    #[test]
    fn the_latest_adjudication_decides_by_time_then_position() {
        let bytes = file_of(&[
            by(
                "rev",
                AnswerKind::Adjudication(Vote::NotHotDog),
                "2026-12-01T07:00:05Z",
                "r2",
            ),
            by(
                "kim",
                AnswerKind::Adjudication(Vote::HotDog),
                "2026-12-01T07:00:01Z",
                "k1",
            ),
            by(
                "kim",
                AnswerKind::Adjudication(Vote::HotDog),
                "2026-12-01T07:00:05Z",
                "k2",
            ),
        ]);
        let f = LabelFile::parse(&bytes);
        assert_eq!(
            resolve(&f),
            vec![
                Standing::Superseded,
                Standing::Superseded,
                Standing::Current
            ]
        );
        let s = ImageSummary::from_file(&f);
        let decided = s.adjudication.clone().unwrap();
        assert_eq!(
            (
                decided.vote,
                decided.by.as_str(),
                decided.answer_id.as_str()
            ),
            (Vote::HotDog, "kim", "k2")
        );
        assert_eq!((s.vote_count(), s.superseded, s.answers), (0, 2, 3));
        assert!(s.current.is_empty());
    }

    #[test]
    fn current_answers_list_named_labellers_sorted() {
        let bytes = file_of(&[
            by("zoe", AnswerKind::Skip, "2026-12-01T07:00:00Z", "z1"),
            by("ann", Vote::HotDog, "2026-12-01T07:00:01Z", "a1"),
            by("ann", Vote::NotHotDog, "2026-12-01T07:00:02Z", "a2"),
            by("", Vote::HotDog, "2026-12-01T07:00:02Z", "o1"),
        ]);
        let mut with_bare = bytes.clone();
        with_bare.extend_from_slice(b"0\n");
        let s = ImageSummary::from_bytes(&with_bare);
        assert_eq!(
            s.current.to_vec(),
            vec![
                CurrentAnswer {
                    labeller: "ann".into(),
                    vote: Some(Vote::NotHotDog),
                    at: "2026-12-01T07:00:02Z".into(),
                    answer_id: "a2".into()
                },
                CurrentAnswer {
                    labeller: "zoe".into(),
                    vote: None,
                    at: "2026-12-01T07:00:00Z".into(),
                    answer_id: "z1".into()
                },
            ]
        );
        assert_eq!(
            s.anonymous_counts(),
            VoteCounts {
                hotdog: 1,
                not_hotdog: 1
            }
        );
        // The summary is a plain serde value (the derived index stores it).
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ImageSummary>(&json).unwrap(), s);
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
    fn a_labellers_latest_answer_supersedes_her_earlier_ones() {
        // ann: 1, 1, then corrects herself to 0; bob votes 1 once.
        let bytes = file_of(&[
            by("ann", Vote::HotDog, "2026-12-01T07:00:00Z", "a1"),
            by("ann", Vote::HotDog, "2026-12-01T07:00:05Z", "a2"),
            by("bob", Vote::HotDog, "2026-12-01T07:00:06Z", "b1"),
            by("ann", Vote::NotHotDog, "2026-12-01T07:00:09Z", "a3"),
        ]);
        let f = LabelFile::parse(&bytes);
        assert_eq!(
            resolve(&f),
            vec![
                Standing::Superseded,
                Standing::Superseded,
                Standing::Current,
                Standing::Current
            ]
        );
        let s = ImageSummary::from_file(&f);
        assert_eq!(
            s.votes,
            VoteCounts {
                hotdog: 1,
                not_hotdog: 1
            }
        );
        assert_eq!((s.answers, s.superseded), (4, 2));
        assert_eq!(s.last_answer_at.as_deref(), Some("2026-12-01T07:00:09Z"));
    }

    #[test]
    fn latest_is_by_time_not_by_file_order() {
        // Delivered out of order: the later answer was written first.
        let bytes = file_of(&[
            by("ann", Vote::NotHotDog, "2026-12-01T07:00:09.250Z", "late"),
            by("ann", Vote::HotDog, "2026-12-01T07:00:09Z", "early"),
        ]);
        let s = ImageSummary::from_bytes(&bytes);
        assert_eq!(
            s.votes,
            VoteCounts {
                hotdog: 0,
                not_hotdog: 1
            }
        );
        // Same time: the later line wins.
        let same = file_of(&[
            by("ann", Vote::NotHotDog, "2026-12-01T07:00:09Z", "x"),
            by("ann", Vote::HotDog, "2026-12-01T07:00:09Z", "y"),
        ]);
        assert_eq!(ImageSummary::from_bytes(&same).votes.hotdog, 1);
    }

    #[test]
    fn a_skip_is_an_answer_not_a_vote() {
        let bytes = file_of(&[
            by("ann", Vote::HotDog, "2026-12-01T07:00:00Z", "a1"),
            by("ann", AnswerKind::Skip, "2026-12-01T07:00:01Z", "a2"),
            by("cat", AnswerKind::Skip, "2026-12-01T07:00:02Z", "c1"),
            by("dan", AnswerKind::Skip, "2026-12-01T07:00:02Z", "d1"),
            by("dan", Vote::NotHotDog, "2026-12-01T07:00:03Z", "d2"),
        ]);
        let s = ImageSummary::from_bytes(&bytes);
        assert_eq!((s.vote_count(), s.skips, s.answers), (1, 2, 5));
        assert!(s.answered_by("ann") && s.answered_by("cat") && s.answered_by("dan"));
        assert!(!s.is_done(2) && s.is_done(1));
    }

    #[test]
    fn anonymous_lines_never_collapse() {
        let bytes = file_of(&[
            by("", Vote::HotDog, "2026-12-01T07:00:00Z", "orig-1"),
            by("", Vote::HotDog, "2026-12-01T07:00:00Z", "orig-2"),
            by("", Vote::NotHotDog, "2026-12-01T07:00:00Z", "orig-3"),
        ]);
        let mut with_bare = bytes.clone();
        with_bare.extend_from_slice(b"1\n");
        let s = ImageSummary::from_bytes(&with_bare);
        assert_eq!((s.vote_count(), s.anonymous_votes, s.superseded), (4, 4, 0));
    }

    #[test]
    fn append_skips_known_ids_and_keeps_old_bytes() {
        let (bytes, added) = append_answers(b"1\n0", &[answer(Vote::HotDog, "a")]);
        assert_eq!(added, 1);
        assert!(bytes.starts_with(b"1\n0\n1\t"));
        let again = [
            answer(Vote::HotDog, "a"),
            answer(AnswerKind::Skip, "b"),
            answer(AnswerKind::Skip, "b"),
        ];
        let (bytes2, added2) = append_answers(&bytes, &again);
        assert_eq!(added2, 1);
        let f = LabelFile::parse(&bytes2);
        assert_eq!((f.lines.len(), f.malformed), (4, 0));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn kind() -> impl Strategy<Value = AnswerKind> {
        prop_oneof![
            Just(AnswerKind::Vote(Vote::HotDog)),
            Just(AnswerKind::Vote(Vote::NotHotDog)),
            Just(AnswerKind::Skip),
        ]
    }

    fn kind_or_adjudication() -> impl Strategy<Value = AnswerKind> {
        prop_oneof![
            4 => kind(),
            1 => Just(AnswerKind::Adjudication(Vote::HotDog)),
            1 => Just(AnswerKind::Adjudication(Vote::NotHotDog)),
        ]
    }

    /// (labeller index or anonymous, kind, second of the minute)
    fn answers() -> impl Strategy<Value = Vec<(Option<u8>, AnswerKind, u8)>> {
        proptest::collection::vec((proptest::option::of(0u8..4), kind(), 0u8..60), 0..24)
    }

    fn build(spec: &[(Option<u8>, AnswerKind, u8)]) -> Vec<u8> {
        spec.iter()
            .enumerate()
            .map(|(i, (who, kind, sec))| {
                Answer {
                    kind: *kind,
                    at: format!("2026-12-01T07:00:{sec:02}Z"),
                    labeller: who.map(|w| format!("l{w}")).unwrap_or_default(),
                    answer_id: format!("id{i}"),
                }
                .to_line()
            })
            .collect::<String>()
            .into_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn any_bytes_parse_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let f = LabelFile::parse(&bytes);
            let non_blank = String::from_utf8_lossy(&bytes).split('\n').filter(|l| !l.trim().is_empty()).count();
            prop_assert_eq!(f.lines.len() + f.malformed, non_blank);
            let s = ImageSummary::from_file(&f);
            prop_assert_eq!(s.answers, f.lines.len() as u64);
        }

        #[test]
        fn appended_answers_always_read_back(names in proptest::collection::vec(any::<String>(), 1..5)) {
            let answers: Vec<Answer> = names.iter().enumerate().map(|(i, n)| Answer {
                kind: [AnswerKind::Vote(Vote::HotDog), AnswerKind::Vote(Vote::NotHotDog), AnswerKind::Skip][i % 3],
                at: n.clone(),
                labeller: n.clone(),
                answer_id: format!("id{i}{n}"),
            }).collect();
            let (bytes, added) = append_answers(b"1\n", &answers);
            let f = LabelFile::parse(&bytes);
            prop_assert_eq!(f.malformed, 0);
            prop_assert_eq!(f.lines.len(), 1 + added);
        }

        /// Each named labeller counts at most once (vote or skip), with her latest answer;
        /// every anonymous line counts once; nothing is lost from `answers`.
        #[test]
        fn one_current_answer_per_labeller(spec in answers()) {
            let s = ImageSummary::from_bytes(&build(&spec));
            let mut latest: HashMap<u8, (u8, usize, AnswerKind)> = HashMap::new();
            let mut anon = VoteCounts::default();
            for (i, (who, kind, sec)) in spec.iter().enumerate() {
                match who {
                    Some(w) => {
                        let e = latest.entry(*w).or_insert((*sec, i, *kind));
                        if (*sec, i) >= (e.0, e.1) { *e = (*sec, i, *kind); }
                    }
                    None => if let Some(v) = kind.vote() { anon.add(v) },
                }
            }
            let anon_skips = spec.iter().filter(|(w, k, _)| w.is_none() && *k == AnswerKind::Skip).count() as u64;
            let mut votes = anon;
            let mut skips = anon_skips;
            for (_, _, kind) in latest.values() {
                match kind.vote() { Some(v) => votes.add(v), None => skips += 1 }
            }
            prop_assert_eq!(s.votes, votes);
            prop_assert_eq!(s.skips, skips);
            prop_assert_eq!(s.anonymous_votes, anon.total());
            prop_assert_eq!(s.current.len(), latest.len());
            for who in latest.keys() {
                let name = format!("l{who}");
                prop_assert!(s.answered_by(&name), "{} answered", name);
            }
            prop_assert_eq!(s.answers, spec.len() as u64);
            prop_assert_eq!(s.superseded + latest.len() as u64 + anon.total() + anon_skips, spec.len() as u64);
        }

        /// Adjudication lines change no vote, skip or labeller; the decision is the latest
        /// adjudication by (time, position).
        #[test]
        fn adjudications_change_no_vote(spec in answers(), adj in proptest::collection::vec((0u8..4, kind_or_adjudication(), 0u8..60), 0..6)) {
            let plain = ImageSummary::from_bytes(&build(&spec));
            let mut bytes = build(&spec);
            let mut expected: Option<(u8, usize, Vote)> = None;
            let mut adjudication_lines = 0u64;
            for (j, (who, kind, sec)) in adj.iter().enumerate() {
                let Some(v) = kind.adjudication() else { continue };
                adjudication_lines += 1;
                let line = Answer { kind: *kind, at: format!("2026-12-01T07:00:{sec:02}Z"), labeller: format!("l{who}"), answer_id: format!("adj{j}") }.to_line();
                bytes.extend_from_slice(line.as_bytes());
                if expected.is_none_or(|(s, i, _)| (*sec, j) >= (s, i)) { expected = Some((*sec, j, v)); }
            }
            let s = ImageSummary::from_bytes(&bytes);
            prop_assert_eq!(s.votes, plain.votes);
            prop_assert_eq!(s.skips, plain.skips);
            prop_assert_eq!(&s.current, &plain.current);
            prop_assert_eq!(s.adjudication.as_ref().map(|a| a.vote), expected.map(|e| e.2));
            prop_assert_eq!(s.answers, plain.answers + adjudication_lines);
            prop_assert_eq!(s.superseded, plain.superseded + adjudication_lines.saturating_sub(1));
        }

        /// Appending a labeller's new answer never changes anyone else's standing.
        #[test]
        fn a_new_answer_only_supersedes_its_own_labeller(spec in answers(), who in 0u8..4, kind in kind()) {
            let before = build(&spec);
            let extra = Answer { kind, at: "2026-12-01T07:01:00Z".into(), labeller: format!("l{who}"), answer_id: "new".into() };
            let (after, _) = append_answers(&before, &[extra]);
            let (fb, fa) = (LabelFile::parse(&before), LabelFile::parse(&after));
            let (rb, ra) = (resolve(&fb), resolve(&fa));
            for (i, line) in fb.lines.iter().enumerate() {
                if line.labeller() != Some(format!("l{who}").as_str()) {
                    prop_assert_eq!(rb[i], ra[i]);
                } else {
                    prop_assert_eq!(ra[i], Standing::Superseded);
                }
            }
            prop_assert_eq!(ra.last().copied(), Some(Standing::Current));
        }
    }
}
