//! A server whose proxy upstreams (`openai`, `anthropic`) are one fake LLM, and a wait for
//! what the proxy's recorder stores.

use super::TestServer;
use flightdeck_fake_llm::{FakeLlm, Options};
use flightdeck_server::ServerConfig;
use flightdeck_server::proxy::config::{ApiKind, ProxyConfig, Upstream};
use serde_json::Value;
use std::collections::BTreeMap;

/// Proxy settings with `openai` and `anthropic` both at `fake`.
pub fn proxy_to(fake: &FakeLlm) -> ProxyConfig {
    let upstream = |kind| Upstream::new(fake.url(), kind);
    ProxyConfig {
        upstreams: BTreeMap::from([
            ("openai".to_owned(), upstream(ApiKind::Openai)),
            ("anthropic".to_owned(), upstream(ApiKind::Anthropic)),
        ]),
        ..ProxyConfig::default()
    }
}

/// A fake LLM with default options, and a server proxying to it.
pub async fn start() -> (FakeLlm, TestServer) {
    let fake = FakeLlm::start(Options::default()).await.unwrap();
    let server = TestServer::start_with(ServerConfig {
        proxy: proxy_to(&fake),
        ..ServerConfig::default()
    })
    .await;
    (fake, server)
}

/// Waits until the recorder has stored `n` finished spans in `session`.
pub async fn recorded(s: &TestServer, session: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let (status, spans) = s.get(&format!("/api/v1/sessions/{session}/spans")).await;
        if status == 200 {
            let spans = spans.as_array().unwrap().clone();
            if spans.len() >= n && spans.iter().all(|s| s["status"] != "running") {
                return spans;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{n} finished spans were not recorded in {session}");
}
