//! What travels on the queues: compute replies and label submissions, as JSON.

use serde::{Deserialize, Serialize};

use super::label_file::{Answer, Vote};
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

/// One round of answers from one labeller, as sent to the label queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSubmission {
    /// Format version, 1.
    pub v: u32,
    pub labeller: String,
    pub answers: Vec<SubmittedAnswer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmittedAnswer {
    pub image: String,
    /// 1 = hot dog, 0 = not.
    pub vote: u8,
    pub answer_id: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmissionError {
    #[error("the label message is not valid JSON of the expected shape: {0}")]
    Schema(String),
    #[error("the label message has version {0}; this worker reads version 1")]
    Version(u32),
    #[error("the label message has no answers")]
    NoAnswers,
    #[error("vote {0} for \"{1}\" is not 0 or 1")]
    BadVote(u8, String),
    #[error("an answer has an empty image name or answer id")]
    MissingField,
}

pub const MAX_ANSWERS_PER_SUBMISSION: usize = 100;

impl LabelSubmission {
    pub fn new(labeller: &str, answers: Vec<(String, Vote, String, String)>) -> LabelSubmission {
        LabelSubmission {
            v: 1,
            labeller: labeller.to_string(),
            answers: answers
                .into_iter()
                .map(|(image, vote, answer_id, at)| SubmittedAnswer {
                    image,
                    vote: if vote == Vote::HotDog { 1 } else { 0 },
                    answer_id,
                    at,
                })
                .collect(),
        }
    }

    /// Reads and checks a message body; returns `(image, answer)` pairs.
    pub fn decode(body: &str) -> Result<Vec<(String, Answer)>, SubmissionError> {
        let s: LabelSubmission = serde_json::from_str(body)
            .map_err(|e| SubmissionError::Schema(truncate(&e.to_string())))?;
        if s.v != 1 {
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
        s.answers
            .into_iter()
            .map(|a| {
                let vote = match a.vote {
                    1 => Vote::HotDog,
                    0 => Vote::NotHotDog,
                    other => return Err(SubmissionError::BadVote(other, truncate(&a.image))),
                };
                if a.image.is_empty() || a.answer_id.is_empty() {
                    return Err(SubmissionError::MissingField);
                }
                Ok((
                    a.image,
                    Answer {
                        vote,
                        at: a.at,
                        labeller: s.labeller.clone(),
                        answer_id: a.answer_id,
                    },
                ))
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

    #[test]
    fn submissions_round_trip() {
        let s = LabelSubmission::new(
            "ann",
            vec![("1.jpg".into(), Vote::HotDog, "id".into(), "t".into())],
        );
        let body = serde_json::to_string(&s).unwrap();
        let decoded = LabelSubmission::decode(&body).unwrap();
        assert_eq!(decoded[0].0, "1.jpg");
        assert_eq!(decoded[0].1.vote, Vote::HotDog);
        assert_eq!(decoded[0].1.labeller, "ann");
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
            LabelSubmission::decode(r#"{"v":2,"labeller":"a","answers":[]}"#),
            Err(SubmissionError::Version(2))
        );
        assert!(matches!(
            LabelSubmission::decode(
                r#"{"v":1,"labeller":"a","answers":[{"image":"x","vote":7,"answer_id":"i","at":"t"}]}"#
            ),
            Err(SubmissionError::BadVote(7, _))
        ));
        assert!(matches!(
            LabelSubmission::decode(
                r#"{"v":1,"labeller":"a","answers":[{"image":"x","vote":1,"answer_id":"i","at":"t","extra":1}]}"#
            ),
            Err(SubmissionError::Schema(_))
        ));
    }
}
