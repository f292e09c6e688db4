//! Client -> server messages of the live protocol, typed and versioned.
//!
//! Every message is a JSON object with `v` (the protocol version, 1) and `type`. A message
//! the server cannot act on is answered with an `error` naming what is wrong; the socket
//! stays open. `review.decide` decides a review gate, as `POST /api/v1/reviews/{id}/decision`
//! does; the names `playground.run` and `replay.start` are reserved for commands to come.

use super::frame::VERSION;
use super::scope::Scope;
use flightdeck_model::review::DecisionInput;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// A message from the client.
#[derive(Debug, PartialEq)]
pub enum Request {
    /// Watch a scope instead of the current one: a fresh `hello` follows.
    Subscribe(Scope),
    /// Keepalive: answered with a `pong` carrying the same `id`.
    Ping(Option<Value>),
    /// A person's decision on a review: answered with an `ack` carrying the same `id` and
    /// the review, or an `error`.
    Decide {
        review_id: String,
        input: DecisionInput,
        id: Option<Value>,
    },
}

/// The wire form of [`Request`].
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Wire {
    Subscribe {
        scope: String,
        #[serde(default)]
        session_id: Option<String>,
    },
    Ping {
        #[serde(default)]
        id: Option<Value>,
    },
}

/// The wire form of `review.decide`, read on its own: a raw `output` cannot pass through
/// the buffering of an internally tagged enum.
#[derive(Deserialize)]
struct Decide {
    review_id: String,
    decision: String,
    #[serde(default)]
    output: Option<Box<RawValue>>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    id: Option<Value>,
}

/// The types a client may send now.
const TYPES: [&str; 3] = ["subscribe", "ping", "review.decide"];

/// Read first, so a wrong version or type gets its own clear error.
#[derive(Deserialize)]
struct Header {
    v: Option<Value>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// A client message the server could not act on.
#[derive(Debug, PartialEq)]
pub struct Rejected {
    /// `bad_message`, `unsupported_version` or `unknown_type`.
    pub code: &'static str,
    pub message: String,
}

fn bad(message: impl Into<String>) -> Rejected {
    Rejected {
        code: "bad_message",
        message: message.into(),
    }
}

/// Reads one client message.
pub fn parse(text: &str) -> Result<Request, Rejected> {
    let header: Header = serde_json::from_str(text)
        .map_err(|e| bad(format!("a message is a JSON object with v and type: {e}")))?;
    match header.v {
        Some(v) if v == VERSION => {}
        Some(v) => {
            return Err(Rejected {
                code: "unsupported_version",
                message: format!(
                    "this server speaks version {VERSION} of the live protocol, not {v}"
                ),
            });
        }
        None => {
            return Err(bad(format!(
                "missing field `v` (the protocol version, {VERSION})"
            )));
        }
    }
    let kind = header.kind.ok_or_else(|| bad("missing field `type`"))?;
    if !TYPES.contains(&kind.as_str()) {
        return Err(Rejected {
            code: "unknown_type",
            message: format!(
                "unknown message type {kind:?}; this server takes: {}",
                TYPES.join(", ")
            ),
        });
    }
    if kind == "review.decide" {
        let d: Decide = serde_json::from_str(text).map_err(|e| bad(format!("{kind}: {e}")))?;
        return Ok(Request::Decide {
            review_id: d.review_id,
            input: DecisionInput {
                decision: d.decision,
                output: d.output,
                comment: d.comment,
            },
            id: d.id,
        });
    }
    match serde_json::from_str(text).map_err(|e| bad(format!("{kind}: {e}")))? {
        Wire::Subscribe { scope, session_id } => Scope::parse(&scope, session_id)
            .map(Request::Subscribe)
            .map_err(|e| bad(format!("subscribe: {e}"))),
        Wire::Ping { id } => Ok(Request::Ping(id)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_and_ping_are_read() {
        assert_eq!(
            parse(r#"{"v":1,"type":"subscribe","scope":"overview"}"#),
            Ok(Request::Subscribe(Scope::Overview))
        );
        assert_eq!(
            parse(r#"{"v":1,"type":"subscribe","scope":"session","session_id":"s1"}"#),
            Ok(Request::Subscribe(Scope::Session("s1".into())))
        );
        assert_eq!(
            parse(r#"{"v":1,"type":"ping","id":3,"extra":true}"#),
            Ok(Request::Ping(Some(Value::from(3))))
        );
        assert_eq!(parse(r#"{"v":1,"type":"ping"}"#), Ok(Request::Ping(None)));
    }

    #[test]
    fn each_kind_of_bad_message_gets_its_code() {
        let code = |text: &str| parse(text).unwrap_err().code;
        assert_eq!(code("not json"), "bad_message");
        assert_eq!(code("[1]"), "bad_message");
        assert_eq!(code(r#"{"type":"ping"}"#), "bad_message");
        assert_eq!(code(r#"{"v":2,"type":"ping"}"#), "unsupported_version");
        assert_eq!(code(r#"{"v":"1","type":"ping"}"#), "unsupported_version");
        assert_eq!(code(r#"{"v":1}"#), "bad_message");
        assert_eq!(code(r#"{"v":1,"type":"review.play"}"#), "unknown_type");
        assert_eq!(code(r#"{"v":1,"type":"review.decide"}"#), "bad_message");
        assert_eq!(code(r#"{"v":1,"type":"subscribe"}"#), "bad_message");
        let e = parse(r#"{"v":1,"type":"subscribe","scope":"session"}"#).unwrap_err();
        assert!(e.message.contains("session_id"), "{}", e.message);
    }
}
