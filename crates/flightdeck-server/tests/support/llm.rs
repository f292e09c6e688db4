//! A server whose proxy upstreams (`openai`, `anthropic`) are one fake LLM, and a wait for
//! what the proxy's recorder stores.

use super::TestServer;
use flightdeck_fake_llm::{FakeLlm, Options};
use flightdeck_server::ServerConfig;
use flightdeck_server::proxy::config::{ApiKind, ProxyConfig, Upstream};
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
