//! Claude Code session transcripts (placeholder until the mapping lands).

use flightdeck_model::{Limits, Message};

/// The native messages of one transcript line.
pub fn map(_line: &str, _limits: &Limits) -> Result<Vec<Message>, String> {
    Err("Claude Code transcripts are not read yet".into())
}
