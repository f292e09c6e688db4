//! One LLM call reported twice: an app traced by OpenTelemetry whose client also goes through
//! the proxy. Its OTel span carries `gen_ai.response.id`, and the proxy reads the same id
//! from the provider's response (`chatcmpl-...`, `msg_...`, `resp_...`). Whichever arrives
//! second finds the first here and has the store join them (`span.move`): the proxy's record
//! moves into the OTel span, which keeps OTel's parent, agent and name, and the proxy's exact
//! request and response. A bounded memory: a report more than [`CALLS`] calls after the other
//! is not joined.

use crate::fifo::Fifo;
use std::sync::Mutex;

/// How many unjoined calls are remembered.
pub const CALLS: usize = 16_384;

/// Who reported a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Otlp,
    Proxy,
}

/// Where a report of a call was filed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filed {
    pub source: Source,
    pub session: String,
    pub span: String,
}

/// The calls seen by one source and not yet by the other, by response id.
pub struct Calls {
    seen: Mutex<Fifo<String, Option<Filed>>>,
}

impl Default for Calls {
    fn default() -> Self {
        Calls {
            seen: Mutex::new(Fifo::new(CALLS)),
        }
    }
}

impl Calls {
    /// Files `report` of the call `response_id`. Returns the other source's report when it
    /// came first: the two are one call (and neither is joined again).
    pub fn join(&self, response_id: &str, report: Filed) -> Option<Filed> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let key = response_id.to_owned();
        match seen.get_mut(&key) {
            Some(slot) => match slot {
                Some(first) if first.source != report.source => slot.take(),
                Some(first) => {
                    *first = report; // the same source again (a retry): the latest filing
                    None
                }
                None => None, // joined already
            },
            None => {
                seen.insert(key, Some(report));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filed(source: Source, span: &str) -> Filed {
        Filed {
            source,
            session: "s".into(),
            span: span.into(),
        }
    }

    #[test]
    fn the_second_report_finds_the_first_of_the_other_source_once() {
        let calls = Calls::default();
        assert_eq!(calls.join("chatcmpl-1", filed(Source::Proxy, "p")), None);
        assert_eq!(
            calls.join("chatcmpl-1", filed(Source::Proxy, "p2")),
            None,
            "a retry"
        );
        assert_eq!(
            calls.join("chatcmpl-1", filed(Source::Otlp, "o")),
            Some(filed(Source::Proxy, "p2"))
        );
        assert_eq!(
            calls.join("chatcmpl-1", filed(Source::Otlp, "o")),
            None,
            "joined"
        );
        assert_eq!(calls.join("msg_2", filed(Source::Otlp, "o")), None);
        assert_eq!(
            calls.join("msg_2", filed(Source::Proxy, "p")),
            Some(filed(Source::Otlp, "o"))
        );
    }
}
