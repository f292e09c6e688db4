//! What a live client watches: the overview (every session's summary) or one session (every
//! message of it). Both transports name a scope the same way: `scope` and `session_id`.

use flightdeck_model::decode::MAX_ID_BYTES;

/// The part of the store a subscription follows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Session summaries as they change.
    Overview,
    /// Every message of one session, and its summary as it changes.
    Session(String),
}

impl Scope {
    /// Reads a scope from its wire form, naming what is wrong.
    pub fn parse(scope: &str, session_id: Option<String>) -> Result<Scope, String> {
        match (scope, session_id) {
            ("overview", None) => Ok(Scope::Overview),
            ("overview", Some(_)) => Err("scope \"overview\" takes no session_id".into()),
            ("session", Some(id)) if id.is_empty() || id.len() > MAX_ID_BYTES => {
                Err(format!("session_id must be 1 to {MAX_ID_BYTES} bytes long"))
            }
            ("session", Some(id)) => Ok(Scope::Session(id)),
            ("session", None) => Err("scope \"session\" needs a session_id".into()),
            (other, _) => Err(format!(
                "unknown scope {other:?}; the scopes are \"overview\" and \"session\""
            )),
        }
    }

    /// The wire name of the scope.
    pub fn name(&self) -> &'static str {
        match self {
            Scope::Overview => "overview",
            Scope::Session(_) => "session",
        }
    }

    /// The watched session, for a session scope.
    pub fn session_id(&self) -> Option<&str> {
        match self {
            Scope::Overview => None,
            Scope::Session(id) => Some(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_bad_ones_are_named() {
        assert_eq!(Scope::parse("overview", None), Ok(Scope::Overview));
        assert_eq!(
            Scope::parse("session", Some("s1".into())),
            Ok(Scope::Session("s1".into()))
        );
        assert!(
            Scope::parse("session", None)
                .unwrap_err()
                .contains("session_id")
        );
        assert!(Scope::parse("session", Some(String::new())).is_err());
        assert!(Scope::parse("session", Some("x".repeat(MAX_ID_BYTES + 1))).is_err());
        assert!(Scope::parse("overview", Some("s1".into())).is_err());
        assert!(Scope::parse("all", None).unwrap_err().contains("\"all\""));
    }
}
