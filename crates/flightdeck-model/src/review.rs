//! Review gates: a person approves, edits or stops a running agent.
//!
//! An agent opens a review ([`ReviewOpen`], `POST /api/v1/reviews`) and waits; a person
//! decides ([`DecisionInput`]); or the deadline passes and the review's own action applies.
//! [`ReviewRecord`] is the review as the API serves it, to the agent and the page alike.
//! No I/O; the server, the store and the SDKs share these shapes.

use crate::decode::FieldError;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The shortest and longest timeout a review may have, in milliseconds.
pub const TIMEOUT_MS_RANGE: (u64, u64) = (100, 7 * 24 * 3_600_000);
/// The timeout of a review that names none: five minutes.
pub const DEFAULT_TIMEOUT_MS: u64 = 300_000;

/// What happens when nobody decides before the deadline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnTimeout {
    /// The agent goes on with its output unchanged.
    #[default]
    Continue,
    /// The agent stops early, as if a person chose "Exit early".
    ExitEarly,
    /// The agent is told the review failed.
    Fail,
}

impl OnTimeout {
    pub fn as_str(self) -> &'static str {
        match self {
            OnTimeout::Continue => "continue",
            OnTimeout::ExitEarly => "exit_early",
            OnTimeout::Fail => "fail",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "continue" => OnTimeout::Continue,
            "exit_early" => OnTimeout::ExitEarly,
            "fail" => OnTimeout::Fail,
            _ => return None,
        })
    }

    /// The decision this action stands for.
    pub fn decision(self) -> Decision {
        match self {
            OnTimeout::Continue => Decision::Continue,
            OnTimeout::ExitEarly => Decision::ExitEarly,
            OnTimeout::Fail => Decision::Fail,
        }
    }
}

/// Whether the review comes before the step under review runs, or after it produced output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    Before,
    #[default]
    After,
}

/// What the agent is told to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Go on with the output as it is.
    Continue,
    /// Go on with the revised output.
    Edit,
    /// Stop the run early.
    ExitEarly,
    /// Nobody decided and the review's action was `fail`.
    Fail,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Continue => "continue",
            Decision::Edit => "edit",
            Decision::ExitEarly => "exit_early",
            Decision::Fail => "fail",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "continue" => Decision::Continue,
            "edit" => Decision::Edit,
            "exit_early" => Decision::ExitEarly,
            "fail" => Decision::Fail,
            _ => return None,
        })
    }
}

/// Where a review stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Waiting for a person.
    Pending,
    /// A person decided.
    Decided,
    /// The deadline passed; the review's action applied.
    TimedOut,
    /// The agent stopped waiting; nobody needs to decide any more.
    Abandoned,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Pending => "pending",
            ReviewState::Decided => "decided",
            ReviewState::TimedOut => "timed_out",
            ReviewState::Abandoned => "abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => ReviewState::Pending,
            "decided" => ReviewState::Decided,
            "timed_out" => ReviewState::TimedOut,
            "abandoned" => ReviewState::Abandoned,
            _ => return None,
        })
    }
}

/// `POST /api/v1/reviews`: an agent asks for a review.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReviewOpen {
    pub session_id: String,
    /// The client's id of this review: a retried request opens nothing twice. The server
    /// makes one when it is left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_id: Option<String>,
    /// The span under review (the review's own span becomes its child).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// What the person judges: any JSON (a string for text).
    pub output: Box<RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default)]
    pub timing: Timing,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    #[serde(default)]
    pub on_timeout: OnTimeout,
    /// Labels for the person's choices, shown instead of the defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    (Some(field.to_owned()), message.into())
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_MS
}

impl ReviewOpen {
    /// Checks what serde cannot: ids present, timeout in range. Errors name the field.
    pub fn validate(&self) -> Result<(), FieldError> {
        for (field, value) in [
            ("session_id", Some(self.session_id.as_str())),
            ("review_id", self.review_id.as_deref()),
            ("span_id", self.span_id.as_deref()),
        ] {
            if let Some(v) = value
                && (v.is_empty() || v.len() > 256 || v.chars().any(char::is_control))
            {
                return Err(field_error(
                    field,
                    "must be 1 to 256 characters without control characters",
                ));
            }
        }
        let (lo, hi) = TIMEOUT_MS_RANGE;
        if !(lo..=hi).contains(&self.timeout_ms) {
            return Err(field_error(
                "timeout_ms",
                format!("must be between {lo} and {hi} milliseconds"),
            ));
        }
        Ok(())
    }
}

/// A decision as a person (or a script) sends it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub decision: String,
    /// The revised output, for `edit`: any JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl PartialEq for DecisionInput {
    fn eq(&self, other: &Self) -> bool {
        self.decision == other.decision
            && self.output.as_ref().map(|o| o.get()) == other.output.as_ref().map(|o| o.get())
            && self.comment == other.comment
    }
}

impl DecisionInput {
    /// The decision, checked: a person may continue, edit (with an output) or exit early.
    pub fn validate(&self) -> Result<Decision, FieldError> {
        let decision = match Decision::parse(&self.decision) {
            Some(d @ (Decision::Continue | Decision::Edit | Decision::ExitEarly)) => d,
            _ => {
                return Err(field_error(
                    "decision",
                    format!(
                        "unknown decision {:?}; one of continue, edit, exit_early",
                        self.decision
                    ),
                ));
            }
        };
        if decision == Decision::Edit && self.output.is_none() {
            return Err(field_error("output", "an edit needs the revised output"));
        }
        if self.comment.as_ref().is_some_and(|c| c.len() > 4096) {
            return Err(field_error("comment", "at most 4096 bytes"));
        }
        Ok(decision)
    }
}

/// A review as the API serves it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReviewRecord {
    pub review_id: String,
    pub session_id: String,
    /// The review's own span in the session (kind `review`).
    pub review_span_id: String,
    /// The span under review, when the agent named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    pub output: Box<RawValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    pub timing: Timing,
    pub timeout_ms: u64,
    pub on_timeout: OnTimeout,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    pub requested_at: Timestamp,
    pub deadline: Timestamp,
    pub state: ReviewState,
    /// Set once settled: what the agent does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// For `edit`: the revised output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_output: Option<Box<RawValue>>,
    /// For `edit`: the change, as a line diff of the pretty-printed outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Who settled it: `login`, `token`, `loopback` (an open server), or `server` (the
    /// deadline, or the agent going away).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
}

impl ReviewRecord {
    /// The record of `open`, pending from `requested_at` until its deadline, under
    /// `review_id` (the client's, or one the caller made).
    pub fn pending(open: ReviewOpen, review_id: String, requested_at: Timestamp) -> ReviewRecord {
        let deadline = Timestamp(
            requested_at
                .0
                .saturating_add(open.timeout_ms as i64 * 1_000_000),
        );
        ReviewRecord {
            review_span_id: format!("review-{review_id}"),
            review_id,
            session_id: open.session_id,
            span_id: open.span_id,
            agent: open.agent,
            title: open.title,
            task: open.task,
            output: open.output,
            prompt: open.prompt,
            timing: open.timing,
            timeout_ms: open.timeout_ms,
            on_timeout: open.on_timeout,
            choices: open.choices,
            requested_at,
            deadline,
            state: ReviewState::Pending,
            decision: None,
            revised_output: None,
            diff: None,
            comment: None,
            decided_by: None,
            decided_at: None,
        }
    }

    /// The output the agent goes on with: the revised one after an edit, else the original.
    pub fn final_output(&self) -> &RawValue {
        self.revised_output.as_deref().unwrap_or(&self.output)
    }
}

/// How a pending review is settled, as the store records it.
#[derive(Clone, Debug)]
pub struct Settlement {
    pub state: ReviewState,
    pub decision: Decision,
    pub revised_output: Option<Box<RawValue>>,
    pub diff: Option<String>,
    pub comment: Option<String>,
    pub decided_by: String,
    pub decided_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(json: &str) -> ReviewOpen {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn defaults_and_range() {
        let r = open(r#"{"session_id":"s","output":"x"}"#);
        assert_eq!(r.timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(r.on_timeout, OnTimeout::Continue);
        assert_eq!(r.timing, Timing::After);
        assert!(r.validate().is_ok());
        let e = open(r#"{"session_id":"s","output":"x","timeout_ms":5}"#)
            .validate()
            .unwrap_err();
        assert_eq!(e.0.as_deref(), Some("timeout_ms"));
        let e = open(r#"{"session_id":"","output":"x"}"#)
            .validate()
            .unwrap_err();
        assert_eq!(e.0.as_deref(), Some("session_id"));
    }

    #[test]
    fn decisions_are_checked_by_field() {
        let d = |json: &str| {
            serde_json::from_str::<DecisionInput>(json)
                .unwrap()
                .validate()
        };
        assert_eq!(d(r#"{"decision":"continue"}"#), Ok(Decision::Continue));
        assert_eq!(
            d(r#"{"decision":"edit","output":{"a":1}}"#),
            Ok(Decision::Edit)
        );
        assert_eq!(
            d(r#"{"decision":"edit"}"#).unwrap_err().0.as_deref(),
            Some("output")
        );
        assert_eq!(
            d(r#"{"decision":"fail"}"#).unwrap_err().0.as_deref(),
            Some("decision")
        );
        assert_eq!(
            d(r#"{"decision":"maybe"}"#).unwrap_err().0.as_deref(),
            Some("decision")
        );
    }
}
