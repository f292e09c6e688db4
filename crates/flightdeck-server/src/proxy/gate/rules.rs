//! Which proxied calls a person reviews: the `[[review.rules]]` of the config file (an
//! upstream, tool-name patterns, a timeout and its action) and the `x-flightdeck-review*`
//! request headers, which gate one call the same way without touching the config.
//!
//! Patterns are globs (`delete_*`, `git_{push,reset}`), matched against the names of the
//! tools the model calls.

use axum::http::HeaderMap;
use flightdeck_model::review::{DEFAULT_TIMEOUT_MS, OnTimeout, TIMEOUT_MS_RANGE};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::sync::Arc;

/// The header naming tool patterns to gate in this call (comma-separated globs).
pub const HEADER: &str = "x-flightdeck-review";
/// The header with this call's review timeout, in seconds.
pub const TIMEOUT_HEADER: &str = "x-flightdeck-review-timeout";
/// The header with what happens at this call's deadline: continue, exit_early or fail.
pub const ON_TIMEOUT_HEADER: &str = "x-flightdeck-review-on-timeout";

/// A `[[review.rules]]` entry as the config file writes it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// The upstream whose calls the rule gates; every upstream when left out.
    #[serde(default)]
    pub upstream: Option<String>,
    /// Tool-name globs: a response calling a matching tool waits for a person.
    pub tools: Vec<String>,
    /// How long the person has, in seconds (five minutes when left out).
    #[serde(default)]
    pub timeout_secs: Option<u64>,
    /// What happens at the deadline.
    #[serde(default)]
    pub on_timeout: OnTimeout,
}

/// A checked rule. Cheap to clone (each gated call takes the rules of its upstream): the
/// compiled patterns are shared.
#[derive(Clone, Debug)]
pub struct Rule {
    upstream: Option<String>,
    patterns: Arc<[String]>,
    tools: Arc<GlobSet>,
    timeout_ms: u64,
    on_timeout: OnTimeout,
}

impl Rule {
    /// Checks `settings`; the error names the rule (by its position, from 1) and the key.
    pub fn new(position: usize, settings: RuleSettings) -> Result<Rule, String> {
        let at =
            |key: &str| format!("review rule {position} ([[review.rules]] #{position}): `{key}`");
        if settings.tools.is_empty() {
            return Err(format!("{} names no tool pattern", at("tools")));
        }
        let tools = glob_set(&settings.tools).map_err(|e| format!("{} {e}", at("tools")))?;
        let timeout_ms = match settings.timeout_secs {
            None => DEFAULT_TIMEOUT_MS,
            Some(s) => timeout_ms(s).map_err(|e| format!("{} {e}", at("timeout_secs")))?,
        };
        Ok(Rule {
            upstream: settings.upstream,
            patterns: settings.tools.into(),
            tools: Arc::new(tools),
            timeout_ms,
            on_timeout: settings.on_timeout,
        })
    }

    /// The upstream the rule is for, if only one.
    pub fn upstream(&self) -> Option<&str> {
        self.upstream.as_deref()
    }
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim();
        if p.is_empty() {
            return Err("has an empty tool pattern".to_owned());
        }
        set.add(Glob::new(p).map_err(|e| format!("pattern {p:?} is not a glob: {e}"))?);
    }
    set.build().map_err(|e| e.to_string())
}

fn timeout_ms(secs: u64) -> Result<u64, String> {
    let ms = secs.saturating_mul(1000);
    let (lo, hi) = TIMEOUT_MS_RANGE;
    if (lo..=hi).contains(&ms) {
        Ok(ms)
    } else {
        Err(format!(
            "must be between 1 and {} seconds, not {secs}",
            hi / 1000
        ))
    }
}

/// The gates that apply to one call: the header's first, then the config's rules for its
/// upstream. Empty for almost every call, which then passes as if no gate existed.
#[derive(Clone, Debug, Default)]
pub struct Gates {
    rules: Vec<Rule>,
}

/// What a gated tool call waits under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
    pub timeout_ms: u64,
    pub on_timeout: OnTimeout,
}

impl Gates {
    /// The gates of a call to `upstream` with these request headers; an error names the
    /// header that is wrong.
    pub fn for_call(rules: &[Rule], upstream: &str, headers: &HeaderMap) -> Result<Gates, String> {
        let mut out: Vec<Rule> = header_rule(headers)?.into_iter().collect();
        out.extend(
            rules
                .iter()
                .filter(|r| r.upstream().is_none_or(|u| u == upstream))
                .cloned(),
        );
        Ok(Gates { rules: out })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether a person reviews calls of tool `name`, and on what terms (the first
    /// matching gate's).
    pub fn terms(&self, name: &str) -> Option<Terms> {
        self.rules
            .iter()
            .find(|r| r.tools.is_match(name))
            .map(|r| Terms {
                timeout_ms: r.timeout_ms,
                on_timeout: r.on_timeout,
            })
    }

    /// Whether any of `names` is gated.
    pub fn any(&self, names: &[String]) -> bool {
        names.iter().any(|n| self.terms(n).is_some())
    }

    /// The patterns, for the review's wording.
    pub fn patterns(&self) -> Vec<&str> {
        self.rules
            .iter()
            .flat_map(|r| r.patterns.iter().map(String::as_str))
            .collect()
    }
}

/// The terms for several gated calls answered together: the shortest timeout, and the
/// strictest action among theirs (fail, then exit early, then continue).
pub fn combined(terms: impl IntoIterator<Item = Terms>) -> Option<Terms> {
    let rank = |a: OnTimeout| match a {
        OnTimeout::Continue => 0,
        OnTimeout::ExitEarly => 1,
        OnTimeout::Fail => 2,
    };
    terms.into_iter().reduce(|a, b| Terms {
        timeout_ms: a.timeout_ms.min(b.timeout_ms),
        on_timeout: if rank(b.on_timeout) > rank(a.on_timeout) {
            b.on_timeout
        } else {
            a.on_timeout
        },
    })
}

/// The rule the `x-flightdeck-review*` headers make, if the call sends them.
fn header_rule(headers: &HeaderMap) -> Result<Option<Rule>, String> {
    let text = |name: &str| -> Result<Option<&str>, String> {
        headers
            .get(name)
            .map(|v| {
                v.to_str()
                    .map(str::trim)
                    .map_err(|_| format!("the {name} header is not text"))
            })
            .transpose()
    };
    let Some(tools) = text(HEADER)? else {
        for other in [TIMEOUT_HEADER, ON_TIMEOUT_HEADER] {
            if headers.contains_key(other) {
                return Err(format!("the {other} header needs the {HEADER} header too"));
            }
        }
        return Ok(None);
    };
    let patterns: Vec<String> = tools.split(',').map(|p| p.trim().to_owned()).collect();
    let tools = glob_set(&patterns).map_err(|e| format!("the {HEADER} header {e}"))?;
    let timeout_ms = match text(TIMEOUT_HEADER)? {
        None => DEFAULT_TIMEOUT_MS,
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| format!("the {TIMEOUT_HEADER} header is seconds, not {s:?}"))
            .and_then(|s| timeout_ms(s).map_err(|e| format!("the {TIMEOUT_HEADER} header {e}")))?,
    };
    let on_timeout = match text(ON_TIMEOUT_HEADER)? {
        None => OnTimeout::Continue,
        Some(s) => OnTimeout::parse(s).ok_or_else(|| {
            format!("the {ON_TIMEOUT_HEADER} header is continue, exit_early or fail, not {s:?}")
        })?,
    };
    Ok(Some(Rule {
        upstream: None,
        patterns: patterns.into(),
        tools: Arc::new(tools),
        timeout_ms,
        on_timeout,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(toml_text: &str) -> Result<Rule, String> {
        Rule::new(1, toml::from_str(toml_text).unwrap())
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn rules_gate_matching_tools_of_their_upstream() {
        let rules = [
            rule("upstream = \"openai\"\ntools = [\"delete_*\"]\ntimeout_secs = 30\non_timeout = \"exit_early\"").unwrap(),
            rule("tools = [\"git_{push,reset}\"]").unwrap(),
        ];
        let g = Gates::for_call(&rules, "openai", &HeaderMap::new()).unwrap();
        assert_eq!(
            g.terms("delete_file"),
            Some(Terms {
                timeout_ms: 30_000,
                on_timeout: OnTimeout::ExitEarly
            })
        );
        assert_eq!(g.terms("git_push").unwrap().timeout_ms, DEFAULT_TIMEOUT_MS);
        assert_eq!(g.terms("read_file"), None);
        let other = Gates::for_call(&rules, "anthropic", &HeaderMap::new()).unwrap();
        assert_eq!(other.terms("delete_file"), None);
        assert!(other.terms("git_reset").is_some());
    }

    #[test]
    fn bad_rules_name_the_rule_and_key() {
        let e = rule("tools = []").unwrap_err();
        assert!(e.contains("rule 1") && e.contains("`tools`"), "{e}");
        let e = rule("tools = [\"a[\"]").unwrap_err();
        assert!(e.contains("not a glob"), "{e}");
        let e = rule("tools = [\"x\"]\ntimeout_secs = 0").unwrap_err();
        assert!(e.contains("`timeout_secs`"), "{e}");
    }

    #[test]
    fn headers_gate_one_call_and_come_first() {
        let rules = [rule("tools = [\"*\"]\ntimeout_secs = 600").unwrap()];
        let h = headers(&[
            (HEADER, "rm, shell_*"),
            (TIMEOUT_HEADER, "5"),
            (ON_TIMEOUT_HEADER, "fail"),
        ]);
        let g = Gates::for_call(&rules, "openai", &h).unwrap();
        assert_eq!(
            g.terms("shell_exec"),
            Some(Terms {
                timeout_ms: 5_000,
                on_timeout: OnTimeout::Fail
            })
        );
        assert_eq!(g.terms("ls").unwrap().timeout_ms, 600_000);
        for (bad, name) in [
            (headers(&[(TIMEOUT_HEADER, "5")]), HEADER),
            (
                headers(&[(HEADER, "x"), (TIMEOUT_HEADER, "soon")]),
                TIMEOUT_HEADER,
            ),
            (
                headers(&[(HEADER, "x"), (ON_TIMEOUT_HEADER, "later")]),
                ON_TIMEOUT_HEADER,
            ),
            (headers(&[(HEADER, "a,,b")]), HEADER),
        ] {
            let e = Gates::for_call(&[], "openai", &bad).unwrap_err();
            assert!(e.contains(name), "{e}");
        }
    }

    #[test]
    fn answered_together_the_shortest_timeout_and_strictest_action_hold() {
        let t = |ms, a| Terms {
            timeout_ms: ms,
            on_timeout: a,
        };
        assert_eq!(
            combined([
                t(9, OnTimeout::Continue),
                t(5, OnTimeout::ExitEarly),
                t(7, OnTimeout::Continue)
            ]),
            Some(t(5, OnTimeout::ExitEarly))
        );
        assert_eq!(combined([]), None);
    }
}
