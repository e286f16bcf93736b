//! What travels on the queues: compute replies and label submissions, as JSON.

use serde::{Deserialize, Serialize};

use super::label_file::{Answer, AnswerKind, Vote};
use super::numbers::SummaryJson;

/// Message attribute naming the queue a reply goes to.
pub const ATTR_REPLY_TO: &str = "ReplyTo";
/// Message attribute matching a reply to its request.
pub const ATTR_CORRELATION_ID: &str = "CorrelationId";

/// The reply to a request that carried `ReplyTo` and `CorrelationId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputeReply {
    pub correlation_id: String,
    /// The plain-text line: the result or the error sentence.
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<SummaryJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One answer for one image, as it travels: kept in the outbox, sent in a submission,
/// decoded by the worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageAnswer {
    pub image: String,
    pub answer: Answer,
}

/// One labeller's answers, as sent to the label queue. Version 1 carries votes only
/// (`vote`: 1 or 0) and is what vote-only submissions still use, so workers of the
/// previous release keep writing them; version 2 carries votes and skips (`answer`: the
/// line format's first field, `1`, `0` or `s`); version 3 is version 2 that may also carry
/// a reviewer's adjudication (`!1`, `!0`), used only by messages that hold one, so a
/// worker that cannot write adjudications refuses the message whole (to the dead-letter
/// queue) rather than half-reading it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSubmission {
    /// Format version, 1 to 3.
    pub v: u32,
    pub labeller: String,
    pub answers: Vec<SubmittedAnswer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedAnswer {
    pub image: String,
    /// Version 1: 1 = hot dog, 0 = not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote: Option<u8>,
    /// Versions 2 and 3: the answer kind's code (`1`, `0`, `s`; version 3 also `!1`, `!0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    pub answer_id: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    #[error("the label message is not valid JSON of the expected shape: {0}")]
    Schema(String),
    #[error("the label message has version {0}; this worker reads versions 1 to 3")]
    Version(u32),
    #[error("the label message has no answers")]
    NoAnswers,
    #[error("vote {0} for \"{1}\" is not 0 or 1")]
    BadVote(u8, String),
    #[error("answer \"{0}\" for \"{1}\" is not 1, 0 or s (nor, in version 3, !1 or !0)")]
    BadAnswer(String, String),
    #[error("an answer has an empty image name or answer id")]
    MissingField,
}

pub const MAX_ANSWERS_PER_SUBMISSION: usize = 100;

impl LabelSubmission {
    /// One labeller's answers (their `labeller` fields are not used: the message names her
    /// once). Version 1 when they are all votes, version 3 when one is an adjudication,
    /// else version 2.
    pub fn new(labeller: &str, answers: &[ImageAnswer]) -> LabelSubmission {
        let all_votes = answers.iter().all(|a| a.answer.kind.vote().is_some());
        let adjudicates = answers
            .iter()
            .any(|a| a.answer.kind.adjudication().is_some());
        LabelSubmission {
            v: match (all_votes, adjudicates) {
                (true, _) => 1,
                (false, false) => 2,
                (false, true) => 3,
            },
            labeller: labeller.to_string(),
            answers: answers
                .iter()
                .map(|a| {
                    let (vote, answer) = match (all_votes, a.answer.kind.vote()) {
                        (true, Some(v)) => (Some(u8::from(v == Vote::HotDog)), None),
                        _ => (None, Some(a.answer.kind.code().to_string())),
                    };
                    SubmittedAnswer {
                        image: a.image.clone(),
                        vote,
                        answer,
                        answer_id: a.answer.answer_id.clone(),
                        at: a.answer.at.clone(),
                    }
                })
                .collect(),
        }
    }

    /// Reads and checks a message body.
    pub fn decode(body: &str) -> Result<Vec<ImageAnswer>, SubmissionError> {
        let s: LabelSubmission = serde_json::from_str(body)
            .map_err(|e| SubmissionError::Schema(truncate(&e.to_string())))?;
        if !(1..=3).contains(&s.v) {
            return Err(SubmissionError::Version(s.v));
        }
        if s.answers.is_empty() {
            return Err(SubmissionError::NoAnswers);
        }
        if s.answers.len() > MAX_ANSWERS_PER_SUBMISSION {
            return Err(SubmissionError::Schema(format!(
                "{} answers in one message; at most {MAX_ANSWERS_PER_SUBMISSION}",
                s.answers.len()
            )));
        }
        // An empty name would read back as anonymous: a named labeller counts once.
        let labeller = super::names::labeller_name(&s.labeller);
        s.answers
            .into_iter()
            .map(|a| {
                let kind = match (s.v, a.vote, a.answer.as_deref()) {
                    (1, Some(1), None) => AnswerKind::Vote(Vote::HotDog),
                    (1, Some(0), None) => AnswerKind::Vote(Vote::NotHotDog),
                    (1, Some(other), None) => {
                        return Err(SubmissionError::BadVote(other, truncate(&a.image)));
                    }
                    // Version 2 carries votes and skips; an adjudication (`!1`/`!0`) is
                    // not one of its answers, so a worker of today never half-reads one.
                    (2, None, Some(code)) => AnswerKind::from_code(code)
                        .filter(|k| k.adjudication().is_none())
                        .ok_or_else(|| {
                            SubmissionError::BadAnswer(truncate(code), truncate(&a.image))
                        })?,
                    (3, None, Some(code)) => AnswerKind::from_code(code).ok_or_else(|| {
                        SubmissionError::BadAnswer(truncate(code), truncate(&a.image))
                    })?,
                    _ => {
                        return Err(SubmissionError::Schema(format!(
                            "version {} answers carry `{}`",
                            s.v,
                            if s.v == 1 { "vote" } else { "answer" }
                        )));
                    }
                };
                if a.image.is_empty() || a.answer_id.is_empty() {
                    return Err(SubmissionError::MissingField);
                }
                Ok(ImageAnswer {
                    image: a.image,
                    answer: Answer {
                        kind,
                        at: a.at,
                        labeller: labeller.clone(),
                        answer_id: a.answer_id,
                    },
                })
            })
            .collect()
    }
}

fn truncate(s: &str) -> String {
    super::names::display_safe(&s.chars().take(120).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(image: &str, kind: AnswerKind, id: &str) -> ImageAnswer {
        ImageAnswer {
            image: image.into(),
            answer: Answer {
                kind,
                at: "t".into(),
                labeller: "ann".into(),
                answer_id: id.into(),
            },
        }
    }

    #[test]
    fn vote_only_submissions_stay_version_1() {
        let s = LabelSubmission::new(
            "ann",
            &[given("1.jpg", AnswerKind::Vote(Vote::HotDog), "id")],
        );
        let body = serde_json::to_string(&s).unwrap();
        assert_eq!(
            body,
            r#"{"v":1,"labeller":"ann","answers":[{"image":"1.jpg","vote":1,"answer_id":"id","at":"t"}]}"#
        );
        let decoded = LabelSubmission::decode(&body).unwrap();
        assert_eq!(decoded[0].image, "1.jpg");
        assert_eq!(decoded[0].answer.kind, AnswerKind::Vote(Vote::HotDog));
        assert_eq!(decoded[0].answer.labeller, "ann");
    }

    #[test]
    fn skips_travel_in_version_2() {
        let answers = [
            given("1.jpg", AnswerKind::Skip, "a"),
            given("2.jpg", AnswerKind::Vote(Vote::NotHotDog), "b"),
        ];
        let body = serde_json::to_string(&LabelSubmission::new("ann", &answers)).unwrap();
        assert!(body.starts_with(r#"{"v":2,"#), "{body}");
        let decoded = LabelSubmission::decode(&body).unwrap();
        assert_eq!(decoded, answers.to_vec());
    }

    #[test]
    fn adjudications_travel_in_version_3() {
        let answers = [
            given("1.jpg", AnswerKind::Adjudication(Vote::HotDog), "a"),
            given("2.jpg", AnswerKind::Skip, "b"),
            given("3.jpg", AnswerKind::Vote(Vote::NotHotDog), "c"),
        ];
        let body = serde_json::to_string(&LabelSubmission::new("ann", &answers)).unwrap();
        assert!(body.starts_with(r#"{"v":3,"#), "{body}");
        assert!(body.contains(r#""answer":"!1""#), "{body}");
        assert_eq!(LabelSubmission::decode(&body).unwrap(), answers.to_vec());
        // Votes and skips alone keep their versions.
        let plain = LabelSubmission::new("ann", &answers[1..]);
        assert_eq!(plain.v, 2);
        assert!(matches!(
            LabelSubmission::decode(
                r#"{"v":3,"labeller":"a","answers":[{"image":"x","answer":"!2","answer_id":"i","at":"t"}]}"#
            ),
            Err(SubmissionError::BadAnswer(_, _))
        ));
    }

    #[test]
    fn bad_submissions_are_refused() {
        assert!(matches!(
            LabelSubmission::decode("garbage"),
            Err(SubmissionError::Schema(_))
        ));
        assert!(matches!(
            LabelSubmission::decode(""),
            Err(SubmissionError::Schema(_))
        ));
        assert_eq!(
            LabelSubmission::decode(r#"{"v":1,"labeller":"a","answers":[]}"#),
            Err(SubmissionError::NoAnswers)
        );
        assert_eq!(
            LabelSubmission::decode(r#"{"v":4,"labeller":"a","answers":[]}"#),
            Err(SubmissionError::Version(4))
        );
        assert!(matches!(
            LabelSubmission::decode(
                r#"{"v":1,"labeller":"a","answers":[{"image":"x","vote":7,"answer_id":"i","at":"t"}]}"#
            ),
            Err(SubmissionError::BadVote(7, _))
        ));
        assert!(matches!(
            LabelSubmission::decode(
                r#"{"v":2,"labeller":"a","answers":[{"image":"x","answer":"!1","answer_id":"i","at":"t"}]}"#
            ),
            Err(SubmissionError::BadAnswer(_, _))
        ));
        // A skip in a version-1 message, or a version-2 answer without its code.
        assert!(matches!(
            LabelSubmission::decode(
                r#"{"v":1,"labeller":"a","answers":[{"image":"x","answer":"s","answer_id":"i","at":"t"}]}"#
            ),
            Err(SubmissionError::Schema(_))
        ));
        assert!(matches!(
            LabelSubmission::decode(
                r#"{"v":2,"labeller":"a","answers":[{"image":"x","vote":1,"answer_id":"i","at":"t"}]}"#
            ),
            Err(SubmissionError::Schema(_))
        ));
        assert!(matches!(
            LabelSubmission::decode(
                r#"{"v":1,"labeller":"a","answers":[{"image":"x","vote":1,"answer_id":"i","at":"t","extra":1}]}"#
            ),
            Err(SubmissionError::Schema(_))
        ));
    }

    #[test]
    fn an_empty_labeller_is_not_anonymous() {
        let a = LabelSubmission::decode(
            r#"{"v":1,"labeller":"","answers":[{"image":"x","vote":1,"answer_id":"i","at":"t"}]}"#,
        )
        .unwrap();
        assert_eq!(a[0].answer.labeller, "anonymous");
    }
}
