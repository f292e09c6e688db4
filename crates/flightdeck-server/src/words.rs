//! Word diffs of two texts, for the playground (a new answer against the original) and for
//! Compare (two runs' answers): the `similar` crate's Myers diff over words, with a deadline
//! so that a huge answer cannot stall a request (past it `similar` settles for a coarser
//! diff), adjacent words of one kind joined into one piece.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};
use std::time::Duration;

/// The longest a word diff may take.
const DEADLINE: Duration = Duration::from_millis(200);

/// A run of words that is in both texts (`equal`), only the first (`delete`) or only the
/// second (`insert`).
#[derive(Debug, PartialEq, Serialize)]
pub struct Piece {
    pub op: &'static str,
    pub text: String,
}

/// The word diff from `old` to `new`.
pub fn diff(old: &str, new: &str) -> Vec<Piece> {
    let diff = TextDiff::configure().timeout(DEADLINE).diff_words(old, new);
    let mut out: Vec<Piece> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => "equal",
            ChangeTag::Delete => "delete",
            ChangeTag::Insert => "insert",
        };
        match out.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => out.push(Piece {
                op,
                text: change.value().to_owned(),
            }),
        }
    }
    out
}
