//! The proxy's configuration: named upstreams (any OpenAI- or Anthropic-compatible server)
//! and how calls without session headers are grouped.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Which API an upstream speaks; decides how calls are read for recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    Openai,
    Anthropic,
}

/// One upstream, reached at `/proxy/{name}/...`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// What replaces `/proxy/{name}` in the URL, e.g. `https://api.openai.com`.
    pub base_url: String,
    pub kind: ApiKind,
    /// A key to send upstream instead of the client's (optional). Never stored.
    #[serde(default)]
    pub api_key: Option<String>,
    /// The environment variable that holds `api_key`, to keep keys out of config files.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Ask for token usage in streamed chat completions (`stream_options.include_usage`)
    /// and take the extra usage chunk back out, so the client sees what it asked for.
    #[serde(default = "yes")]
    pub stream_usage: bool,
}

fn yes() -> bool {
    true
}

impl Upstream {
    /// An upstream at `base_url` speaking `kind`, with the client's own key and defaults.
    pub fn new(base_url: impl Into<String>, kind: ApiKind) -> Self {
        Upstream {
            base_url: base_url.into(),
            kind,
            api_key: None,
            api_key_env: None,
            stream_usage: true,
        }
    }
}

/// Settings of the recording proxy.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub upstreams: BTreeMap<String, Upstream>,
    /// Calls without `x-flightdeck-session` from one client share a session until the client
    /// has been quiet this long.
    pub session_idle: Duration,
    /// The longest an upstream call may take, headers and body together.
    pub timeout: Duration,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        let upstream = Upstream::new;
        ProxyConfig {
            upstreams: BTreeMap::from([
                (
                    "openai".to_owned(),
                    upstream("https://api.openai.com", ApiKind::Openai),
                ),
                (
                    "anthropic".to_owned(),
                    upstream("https://api.anthropic.com", ApiKind::Anthropic),
                ),
            ]),
            session_idle: Duration::from_secs(15 * 60),
            timeout: Duration::from_secs(600),
        }
    }
}
