//! Which session, agent and parent span a proxied call belongs to: from the
//! `x-flightdeck-*` headers when the client sends them; else from a W3C `traceparent` (an app
//! traced by OpenTelemetry: the call is a span of that trace, filed with it); else one session
//! per client (address and user agent) that lasts until the client has been quiet for a while.

use axum::http::HeaderMap;
use flightdeck_model::Timestamp;
use std::collections::HashMap;

/// Header names the proxy reads and never forwards.
pub const SESSION: &str = "x-flightdeck-session";
pub const AGENT: &str = "x-flightdeck-agent";
pub const PARENT: &str = "x-flightdeck-parent";
pub const TAGS: &str = "x-flightdeck-tags";
const PREFIX: &str = "x-flightdeck-";

/// Whether a header is for Flightdeck, not for the upstream.
pub fn is_ours(name: &str) -> bool {
    name.len() >= PREFIX.len() && name[..PREFIX.len()].eq_ignore_ascii_case(PREFIX)
}

/// What the client said about a call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attribution {
    pub session: Option<String>,
    pub agent: Option<String>,
    pub parent: Option<String>,
    pub tags: Vec<String>,
    /// The W3C trace context the client sent, if valid.
    pub trace: Option<TraceParent>,
    /// Who called, for grouping calls without a session header: address and user agent.
    pub client: String,
}

/// A W3C `traceparent`: the trace and the span the call was made in, as lowercase hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: String,
    pub parent_id: String,
}

impl TraceParent {
    /// Reads `version-traceid-parentid-flags`; `None` when it is not a valid one (the W3C
    /// rules: hex fields of 2, 32, 16 and 2 digits, ids not all zero, version `ff` invalid,
    /// version `00` with nothing after the flags).
    pub fn parse(header: &str) -> Option<TraceParent> {
        let fields: Vec<&str> = header.trim().split('-').collect();
        let hex = |s: &str, n: usize| {
            s.len() == n
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        let (version, trace, parent, flags) = match fields[..] {
            [v, t, p, f, ..] => (v, t, p, f),
            _ => return None,
        };
        let valid = hex(version, 2)
            && version != "ff"
            && (version != "00" || fields.len() == 4)
            && hex(trace, 32)
            && hex(parent, 16)
            && hex(flags, 2)
            && trace.bytes().any(|b| b != b'0')
            && parent.bytes().any(|b| b != b'0');
        valid.then(|| TraceParent {
            trace_id: trace.to_owned(),
            parent_id: parent.to_owned(),
        })
    }
}

impl Attribution {
    pub fn from_headers(headers: &HeaderMap, peer: Option<std::net::IpAddr>) -> Self {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 128)
                .map(str::to_owned)
        };
        let user_agent = headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("unknown client");
        Attribution {
            session: get(SESSION),
            agent: get(AGENT),
            parent: get(PARENT),
            tags: get(TAGS)
                .map(|t| {
                    t.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            trace: headers
                .get("traceparent")
                .and_then(|v| v.to_str().ok())
                .and_then(TraceParent::parse),
            client: match peer {
                Some(ip) => format!("{user_agent} at {ip}"),
                None => user_agent.to_owned(),
            },
        }
    }
}

/// Sessions of clients that send no session header: one per client while it keeps calling.
#[derive(Default)]
pub struct ClientSessions {
    open: HashMap<String, (String, Timestamp)>,
}

/// What resolving a client's session found.
pub enum Resolved {
    /// An open session.
    Existing(String),
    /// A new session was opened; its start must be recorded.
    New(String),
}

impl ClientSessions {
    /// The session of `client` at `now`, opening a new one if it was quiet longer than `idle_ns`.
    pub fn resolve(&mut self, client: &str, now: Timestamp, idle_ns: i64) -> Resolved {
        if let Some((id, last)) = self.open.get_mut(client)
            && now.0 - last.0 <= idle_ns
        {
            *last = now;
            return Resolved::Existing(id.clone());
        }
        let id = format!("proxy-{}", uuid::Uuid::new_v4());
        self.open.insert(client.to_owned(), (id.clone(), now));
        Resolved::New(id)
    }

    /// Closes the sessions of clients quiet for longer than `idle_ns`; returns their ids.
    pub fn expire(&mut self, now: Timestamp, idle_ns: i64) -> Vec<String> {
        let mut ended = Vec::new();
        self.open.retain(|_, (id, last)| {
            let keep = now.0 - last.0 <= idle_ns;
            if !keep {
                ended.push(id.clone());
            }
            keep
        });
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_and_recognised() {
        let mut h = HeaderMap::new();
        h.insert(SESSION, "s1".parse().unwrap());
        h.insert(TAGS, "a, b,,".parse().unwrap());
        h.insert("user-agent", "OpenAI/Python".parse().unwrap());
        let a = Attribution::from_headers(&h, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(a.session.as_deref(), Some("s1"));
        assert_eq!(a.tags, ["a", "b"]);
        assert_eq!(a.client, "OpenAI/Python at 127.0.0.1");
        assert!(is_ours("X-Flightdeck-Agent") && !is_ours("authorization"));
    }

    #[test]
    fn a_traceparent_is_read_by_the_w3c_rules() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            TraceParent::parse(ok),
            Some(TraceParent {
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".into(),
                parent_id: "00f067aa0ba902b7".into(),
            })
        );
        let future = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes";
        assert!(
            TraceParent::parse(future).is_some(),
            "later versions may add fields"
        );
        for bad in [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736",
            "",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
        let mut h = HeaderMap::new();
        h.insert("traceparent", ok.parse().unwrap());
        let a = Attribution::from_headers(&h, None);
        assert_eq!(a.trace.unwrap().parent_id, "00f067aa0ba902b7");
    }

    #[test]
    fn client_sessions_last_while_the_client_keeps_calling() {
        let mut s = ClientSessions::default();
        let Resolved::New(first) = s.resolve("c", Timestamp(0), 10) else {
            panic!("new")
        };
        let Resolved::Existing(again) = s.resolve("c", Timestamp(8), 10) else {
            panic!("same")
        };
        assert_eq!(first, again);
        assert!(s.expire(Timestamp(15), 10).is_empty());
        assert_eq!(s.expire(Timestamp(30), 10), vec![first.clone()]);
        let Resolved::New(next) = s.resolve("c", Timestamp(31), 10) else {
            panic!("new")
        };
        assert_ne!(first, next);
    }
}
