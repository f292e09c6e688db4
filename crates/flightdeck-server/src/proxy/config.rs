//! The proxy's configuration: named upstreams (any OpenAI- or Anthropic-compatible server)
//! and how calls without session headers are grouped. A config file names upstreams with
//! [`UpstreamSettings`], checked when the server starts so that a wrong key is reported
//! then, by name, and not by every call later.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Which API an upstream speaks; decides how calls are read for recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
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

/// An upstream as a config file writes it: every key optional for a built-in name
/// (`openai`, `anthropic`), whose other keys stay as built in.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSettings {
    pub base_url: Option<String>,
    pub kind: Option<ApiKind>,
    pub api_key: Option<String>,
    pub api_key_env: Option<String>,
    pub stream_usage: Option<bool>,
}

/// Checks that `url` is an absolute http(s) URL with a host.
fn check_base_url(name: &str, url: &str) -> Result<(), String> {
    let absolute = reqwest::Url::parse(url).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
    });
    if absolute {
        return Ok(());
    }
    Err(format!(
        "proxy upstream {name:?}: base_url {url:?} is not an absolute http(s) URL with a host \
         (for example \"http://127.0.0.1:8000\" or \"https://api.openai.com\")"
    ))
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
    /// Zero-code review gates (`[[review.rules]]`): tool calls a person approves first.
    pub review_rules: Vec<super::gate::Rule>,
}

impl ProxyConfig {
    /// Adds upstream `name`, or changes the built-in one of that name, from a config file's
    /// settings; the error names the upstream and the key that is wrong.
    pub fn set_upstream(&mut self, name: &str, settings: UpstreamSettings) -> Result<(), String> {
        let mut upstream = match self.upstreams.get(name) {
            Some(existing) => existing.clone(),
            None => {
                let missing = |key: &str, example: &str| {
                    format!("proxy upstream {name:?}: `{key}` is missing ({example})")
                };
                let kind = settings
                    .kind
                    .ok_or_else(|| missing("kind", "\"openai\" or \"anthropic\""))?;
                let base_url = settings
                    .base_url
                    .clone()
                    .ok_or_else(|| missing("base_url", "for example \"http://127.0.0.1:8000\""))?;
                Upstream::new(base_url, kind)
            }
        };
        if let Some(url) = settings.base_url {
            upstream.base_url = url;
        }
        check_base_url(name, &upstream.base_url)?;
        if let Some(kind) = settings.kind {
            upstream.kind = kind;
        }
        if settings.api_key.is_some() {
            upstream.api_key = settings.api_key;
        }
        if settings.api_key_env.is_some() {
            upstream.api_key_env = settings.api_key_env;
        }
        if let Some(on) = settings.stream_usage {
            upstream.stream_usage = on;
        }
        self.upstreams.insert(name.to_owned(), upstream);
        Ok(())
    }
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
            review_rules: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str) -> UpstreamSettings {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn a_built_in_upstream_is_redirected_without_its_kind() {
        let mut proxy = ProxyConfig::default();
        proxy
            .set_upstream("openai", settings("base_url = \"http://127.0.0.1:8000\""))
            .unwrap();
        let openai = &proxy.upstreams["openai"];
        assert_eq!(openai.base_url, "http://127.0.0.1:8000");
        assert_eq!(openai.kind, ApiKind::Openai);
        proxy
            .set_upstream("anthropic", settings("api_key_env = \"MY_KEY\""))
            .unwrap();
        assert_eq!(
            proxy.upstreams["anthropic"].base_url,
            "https://api.anthropic.com"
        );
    }

    #[test]
    fn a_new_upstream_needs_a_kind_and_an_absolute_base_url() {
        let mut proxy = ProxyConfig::default();
        let err = proxy
            .set_upstream("local", settings("base_url = \"http://127.0.0.1:8000\""))
            .unwrap_err();
        assert!(
            err.contains("\"local\"") && err.contains("`kind` is missing"),
            "{err}"
        );
        let err = proxy
            .set_upstream("local", settings("kind = \"openai\""))
            .unwrap_err();
        assert!(err.contains("`base_url` is missing"), "{err}");
        for url in [
            "127.0.0.1:8000",
            "localhost:8000",
            "/v1",
            "ftp://host",
            "http://",
        ] {
            let err = proxy
                .set_upstream(
                    "local",
                    settings(&format!("kind = \"openai\"\nbase_url = {url:?}")),
                )
                .unwrap_err();
            assert!(
                err.contains("base_url") && err.contains("http(s)"),
                "{url}: {err}"
            );
        }
        let err = proxy
            .set_upstream("openai", settings("base_url = \"api.openai.com\""))
            .unwrap_err();
        assert!(
            err.contains("\"openai\"") && err.contains("base_url"),
            "{err}"
        );
        proxy
            .set_upstream(
                "local",
                settings("kind = \"anthropic\"\nbase_url = \"http://[::1]:9/\""),
            )
            .unwrap();
    }
}
