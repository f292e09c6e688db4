//! How a new answer differs from the original: a word-level diff of the text
//! (`crate::words`) and a diff of the tool calls, by position, down to each argument.

use super::answer::{Answer, ToolCall};
pub use crate::words::{Piece, diff as words};
use serde::Serialize;
use serde_json::Value;

/// Both diffs of two answers.
#[derive(Debug, Serialize)]
pub struct Diff {
    /// Nothing differs, text or tool calls.
    pub same: bool,
    pub text: Vec<Piece>,
    pub tool_calls: Vec<ToolCallDiff>,
}

/// The tool call at one position in either answer.
#[derive(Debug, PartialEq, Serialize)]
pub struct ToolCallDiff {
    pub index: usize,
    /// `same`, `changed`, `added` (only in the new answer) or `removed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<ToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<ToolCall>,
    /// The arguments that differ (top-level keys; `""` when the arguments are not objects).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<ArgumentChange>,
}

/// One argument with its value in each answer (`None`: absent there).
#[derive(Debug, PartialEq, Serialize)]
pub struct ArgumentChange {
    pub key: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// How `new` differs from `old`.
pub fn diff(old: &Answer, new: &Answer) -> Diff {
    let text = words(&old.text, &new.text);
    let count = old.tool_calls.len().max(new.tool_calls.len());
    let tool_calls: Vec<ToolCallDiff> = (0..count)
        .map(|i| tool_call(i, old.tool_calls.get(i), new.tool_calls.get(i)))
        .collect();
    Diff {
        same: text.iter().all(|p| p.op == "equal") && tool_calls.iter().all(|t| t.status == "same"),
        text,
        tool_calls,
    }
}

fn tool_call(index: usize, old: Option<&ToolCall>, new: Option<&ToolCall>) -> ToolCallDiff {
    let (status, arguments) = match (old, new) {
        (Some(o), Some(n)) => {
            let arguments = arguments(&o.arguments, &n.arguments);
            let same = o.name == n.name && arguments.is_empty();
            (if same { "same" } else { "changed" }, arguments)
        }
        (None, _) => ("added", Vec::new()),
        (_, None) => ("removed", Vec::new()),
    };
    ToolCallDiff {
        index,
        status,
        old: old.cloned(),
        new: new.cloned(),
        arguments,
    }
}

fn arguments(old: &Value, new: &Value) -> Vec<ArgumentChange> {
    let (Value::Object(o), Value::Object(n)) = (old, new) else {
        return if old == new {
            Vec::new()
        } else {
            vec![ArgumentChange {
                key: String::new(),
                old: Some(old.clone()),
                new: Some(new.clone()),
            }]
        };
    };
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| o.get(*k) != n.get(*k))
        .map(|k| ArgumentChange {
            key: k.clone(),
            old: o.get(k).cloned(),
            new: n.get(k).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn words_that_changed_are_marked() {
        let pieces = words("Case the bank at dawn.", "Case the vault at dawn.");
        let ops: Vec<(&str, &str)> = pieces.iter().map(|p| (p.op, p.text.as_str())).collect();
        assert_eq!(
            ops,
            [
                ("equal", "Case the "),
                ("delete", "bank"),
                ("insert", "vault"),
                ("equal", " at dawn.")
            ]
        );
    }

    #[test]
    fn tool_calls_differ_by_argument() {
        let call = |name: &str, args| ToolCall {
            name: name.into(),
            arguments: args,
        };
        let old = Answer {
            text: String::new(),
            tool_calls: vec![call("search", json!({"q": "bank", "n": 3}))],
        };
        let new = Answer {
            text: String::new(),
            tool_calls: vec![
                call("search", json!({"q": "vault", "n": 3})),
                call("open", json!({})),
            ],
        };
        let d = diff(&old, &new);
        assert!(!d.same);
        assert_eq!(d.tool_calls[0].status, "changed");
        assert_eq!(
            d.tool_calls[0].arguments,
            [ArgumentChange {
                key: "q".into(),
                old: Some(json!("bank")),
                new: Some(json!("vault"))
            }]
        );
        assert_eq!(d.tool_calls[1].status, "added");
        assert!(diff(&old, &old).same);
    }
}
