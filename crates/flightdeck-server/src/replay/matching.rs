//! Matching a re-run's calls to the recorded ones, with no I/O.
//!
//! A request is compared by the SHA-256 of its normalised form: the JSON parsed and printed
//! again with keys sorted and no spaces (a body that is not JSON is hashed as it is). Calls
//! are matched per agent (the attribution of the call), by their order within that agent, so
//! agents whose calls interleave differently from the recording still match.
//!
//! The [`Plan`] holds, per agent, the recorded calls that came before the fork point: for the
//! fork call's agent, its calls up to the fork call; for every other agent, its calls that
//! started before the fork call did. [`Cursors`] follow a re-run through it; they are kept in
//! the replay's record as [`AgentProgress`], and a call's recorded exchange is let go once
//! the re-run is past it.

use flightdeck_model::replay::{AgentProgress, Exchange, Saved};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::Arc;

/// An agent as calls are attributed to it (`None`: calls that name none).
pub type Agent = Option<String>;

/// The normalised form of a request: JSON with sorted keys, or the bytes as text.
pub fn normalised(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => v.to_string(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    }
}

/// The hash a request is matched by: SHA-256 of its normalised form, in hex.
pub fn hash(body: &[u8]) -> String {
    let digest = Sha256::digest(normalised(body).as_bytes());
    digest.iter().fold(String::with_capacity(64), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// A line diff from the recorded request to the new one, both pretty-printed with sorted keys.
pub fn request_diff(recorded: &[u8], new: &[u8]) -> String {
    let printed = |b: &[u8]| {
        let text = match serde_json::from_slice::<Value>(b) {
            Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_default(),
            Err(_) => String::from_utf8_lossy(b).into_owned(),
        };
        // As a JSON string, so the diff prints its lines.
        serde_json::value::to_raw_value(&text).expect("a string serialises")
    };
    crate::reviews::diff::diff(&printed(recorded), &printed(new))
}

/// One recorded call the re-run may be answered with.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    pub span_id: String,
    pub hash: String,
    /// Its exchange was kept whole (not cut at the recorder's bound).
    pub servable: bool,
    /// What answering it from the recording saves.
    pub saves: Saved,
    /// The recorded exchange, when the plan keeps it in memory (else it is read from the store).
    pub exchange: Option<Arc<Exchange>>,
}

/// The recorded calls before the fork point, per agent, and the fork call.
#[derive(Debug, Default)]
pub struct Plan {
    pub calls: HashMap<Agent, Vec<Planned>>,
    pub fork_agent: Agent,
    /// The fork call's place among its agent's calls, from 0.
    pub fork_index: usize,
}

/// Where a re-run is, per agent.
#[derive(Debug, Default)]
pub struct Cursors {
    next: HashMap<Agent, usize>,
    diverged: HashSet<Agent>,
}

/// What to do with a call of the re-run.
#[derive(Debug, PartialEq)]
pub enum Step<'a> {
    /// Answer with this recorded call.
    Serve(&'a Planned),
    /// The fork call (it matched the recorded one, or the edit): send the edited request.
    Fork,
    /// It does not match the recorded call in its place: the agent has diverged.
    Mismatch { recorded: &'a Planned, call: usize },
    /// Past the fork point, or after the agent diverged: upstream as it is.
    Upstream,
}

impl Cursors {
    /// The cursors a stored record's progress describes.
    pub fn from_progress(progress: &[AgentProgress]) -> Self {
        let mut c = Cursors::default();
        for p in progress {
            c.next.insert(p.agent.clone(), p.calls);
            if p.diverged {
                c.diverged.insert(p.agent.clone());
            }
        }
        c
    }

    /// The progress to store, agents in name order.
    pub fn progress(&self) -> Vec<AgentProgress> {
        let mut out: Vec<AgentProgress> = self
            .next
            .iter()
            .map(|(agent, &calls)| AgentProgress {
                agent: agent.clone(),
                calls,
                diverged: self.diverged.contains(agent),
            })
            .collect();
        out.sort_by(|a, b| a.agent.cmp(&b.agent));
        out
    }

    /// Whether the re-run of `agent` is past its `index`-th call (from 0): it will not be
    /// served again.
    pub fn passed(&self, agent: &Agent, index: usize) -> bool {
        self.diverged.contains(agent) || self.next.get(agent).is_some_and(|&n| n > index)
    }
}

impl Plan {
    /// Lets go of the recorded exchanges of `agent`'s calls that the re-run is past.
    pub fn release(&mut self, agent: &Agent, cursors: &Cursors) {
        if let Some(calls) = self.calls.get_mut(agent) {
            for (i, p) in calls.iter_mut().enumerate() {
                if cursors.passed(agent, i) {
                    p.exchange = None;
                }
            }
        }
    }

    /// Bytes of recorded exchanges held in memory.
    #[cfg(test)]
    pub fn kept_bytes(&self) -> usize {
        self.calls
            .values()
            .flatten()
            .filter_map(|p| p.exchange.as_ref())
            .map(|x| x.request.len() + x.response.len())
            .sum()
    }

    /// Recorded calls a re-run may be answered with.
    pub fn recorded_calls(&self) -> usize {
        self.calls
            .values()
            .map(Vec::len)
            .sum::<usize>()
            .saturating_sub(1)
    }

    /// The next call of `agent`, whose request hashes to `hash`; `edited` is the hash of the
    /// fork call's edit, which a re-run changed to send it itself also matches.
    pub fn step(
        &self,
        cursors: &mut Cursors,
        agent: &Agent,
        hash: &str,
        edited: Option<&str>,
    ) -> Step<'_> {
        let slot = cursors.next.entry(agent.clone()).or_default();
        let i = *slot;
        *slot += 1;
        if cursors.diverged.contains(agent) {
            return Step::Upstream;
        }
        let Some(recorded) = self.calls.get(agent).and_then(|c| c.get(i)) else {
            return Step::Upstream;
        };
        let fork = *agent == self.fork_agent && i == self.fork_index;
        let matches = recorded.hash == hash || (fork && edited == Some(hash));
        match (matches, fork) {
            (false, _) => {
                cursors.diverged.insert(agent.clone());
                Step::Mismatch {
                    recorded,
                    call: i + 1,
                }
            }
            (true, true) => Step::Fork,
            (true, false) if recorded.servable => Step::Serve(recorded),
            (true, false) => Step::Upstream,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(id: &str, body: &str) -> Planned {
        Planned {
            span_id: id.into(),
            hash: hash(body.as_bytes()),
            servable: true,
            saves: Saved::default(),
            exchange: None,
        }
    }

    fn plan() -> Plan {
        let a = Some("alpha".to_owned());
        let b = Some("beta".to_owned());
        Plan {
            calls: HashMap::from([
                (
                    a.clone(),
                    vec![planned("a1", r#"{"q":1}"#), planned("a2", r#"{"q":2}"#)],
                ),
                (b.clone(), vec![planned("b1", r#"{"q":3}"#)]),
            ]),
            fork_agent: a,
            fork_index: 1,
        }
    }

    #[test]
    fn key_order_and_spacing_do_not_matter() {
        assert_eq!(
            hash(br#"{"b":1,"a":[1,2]}"#),
            hash(b"{ \"a\": [1, 2], \"b\": 1 }")
        );
        assert_ne!(hash(br#"{"a":[2,1]}"#), hash(br#"{"a":[1,2]}"#));
        assert_eq!(hash(b"not json").len(), 64);
    }

    #[test]
    fn agents_match_in_their_own_order_whatever_the_interleaving() {
        let p = plan();
        let mut c = Cursors::default();
        let (alpha, beta) = (Some("alpha".to_owned()), Some("beta".to_owned()));
        let served = |s: Step| matches!(s, Step::Serve(_));
        assert!(served(p.step(&mut c, &beta, &hash(br#"{"q":3}"#), None)));
        assert!(served(p.step(&mut c, &alpha, &hash(br#"{"q":1}"#), None)));
        assert_eq!(
            p.step(&mut c, &alpha, &hash(br#"{"q":2}"#), None),
            Step::Fork
        );
        assert_eq!(
            p.step(&mut c, &alpha, &hash(br#"{"q":9}"#), None),
            Step::Upstream
        );
        assert_eq!(
            p.step(&mut c, &beta, &hash(br#"{"q":9}"#), None),
            Step::Upstream
        );
        assert_eq!(p.step(&mut c, &None, &hash(b"{}"), None), Step::Upstream);
        assert_eq!(p.recorded_calls(), 2);
    }

    #[test]
    fn a_mismatch_diverges_its_agent_only() {
        let p = plan();
        let mut c = Cursors::default();
        let (alpha, beta) = (Some("alpha".to_owned()), Some("beta".to_owned()));
        let step = p.step(&mut c, &alpha, &hash(br#"{"q":7}"#), None);
        assert!(matches!(step, Step::Mismatch { recorded, call: 1 } if recorded.span_id == "a1"));
        assert_eq!(
            p.step(&mut c, &alpha, &hash(br#"{"q":2}"#), None),
            Step::Upstream
        );
        assert!(matches!(
            p.step(&mut c, &beta, &hash(br#"{"q":3}"#), None),
            Step::Serve(_)
        ));
    }

    #[test]
    fn the_fork_call_matches_the_recording_or_the_edit() {
        let p = plan();
        let mut c = Cursors::default();
        let alpha = Some("alpha".to_owned());
        let edit = hash(br#"{"q":"edited"}"#);
        p.step(&mut c, &alpha, &hash(br#"{"q":1}"#), Some(&edit));
        assert_eq!(p.step(&mut c, &alpha, &edit, Some(&edit)), Step::Fork);
    }

    #[test]
    fn progress_round_trips_and_passed_calls_are_let_go() {
        let mut p = plan();
        for calls in p.calls.values_mut() {
            for c in calls {
                c.exchange = Some(Arc::new(Exchange {
                    session_id: "s".into(),
                    span_id: c.span_id.clone(),
                    upstream: "openai".into(),
                    path: "/v1/chat/completions".into(),
                    started_at: flightdeck_model::Timestamp(0),
                    status: 200,
                    content_type: None,
                    request: vec![0; 10],
                    response: vec![0; 90],
                    chunks: Vec::new(),
                    truncated: false,
                }));
            }
        }
        let mut c = Cursors::default();
        let (alpha, beta) = (Some("alpha".to_owned()), Some("beta".to_owned()));
        p.step(&mut c, &alpha, &hash(br#"{"q":1}"#), None);
        p.step(&mut c, &beta, &hash(br#"{"q":0}"#), None);
        let stored = c.progress();
        assert_eq!(
            stored,
            [
                AgentProgress {
                    agent: alpha.clone(),
                    calls: 1,
                    diverged: false
                },
                AgentProgress {
                    agent: beta.clone(),
                    calls: 1,
                    diverged: true
                },
            ]
        );
        let mut again = Cursors::from_progress(&stored);
        assert!(again.passed(&alpha, 0) && !again.passed(&alpha, 1));
        assert!(again.passed(&beta, 5));
        // Restored, the re-run goes on at alpha's second call.
        assert_eq!(
            p.step(&mut again, &alpha, &hash(br#"{"q":2}"#), None),
            Step::Fork
        );
        assert_eq!(p.kept_bytes(), 300);
        p.release(&alpha, &again);
        p.release(&beta, &again);
        assert_eq!(p.kept_bytes(), 0);
    }

    #[test]
    fn the_diff_names_the_changed_line() {
        let d = request_diff(
            br#"{"messages":[{"content":"a"}]}"#,
            br#"{"messages":[{"content":"b"}]}"#,
        );
        assert!(
            d.contains("-       \"content\": \"a\"") && d.contains("+       \"content\": \"b\""),
            "{d}"
        );
    }
}
