//! Starts LiteLLM's proxy as a peer for `bench proxy`: a config that maps the models `fast`
//! and `slow` to the two fake upstreams, on a free loopback port; stopped when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key every benchmark call carries; LiteLLM refuses to start without a master key.
pub const KEY: &str = "sk-flightdeck-bench-5f0c2a9e7b1d4c3f8a6e2b9d0c7f1a4e";

/// A running LiteLLM proxy.
pub struct LiteLlm {
    pub url: String,
    child: Child,
    _dir: std::path::PathBuf,
}

impl Drop for LiteLlm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

/// Starts `bin` (the `litellm` executable) and waits until it answers.
pub async fn start(bin: &std::path::Path, fast: &str, slow: &str) -> anyhow::Result<LiteLlm> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let dir = std::env::temp_dir().join(format!("flightdeck-bench-litellm-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("litellm.yaml");
    std::fs::write(
        &config,
        format!(
            "model_list:\n\
             - model_name: fast\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {fast}/v1\n    api_key: sk-bench\n\
             - model_name: slow\n  litellm_params:\n    model: openai/gpt-4o\n    api_base: {slow}/v1\n    api_key: sk-bench\n\
             litellm_settings:\n  telemetry: false\n"
        ),
    )?;
    let child = Command::new(bin)
        .args(["--config"])
        .arg(&config)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--num_workers",
            "1",
        ])
        .env("LITELLM_MASTER_KEY", KEY)
        .env("LITELLM_TELEMETRY", "False")
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", bin.display()))?;
    let url = format!("http://127.0.0.1:{port}");
    let lite = LiteLlm {
        url,
        child,
        _dir: dir,
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("{}/health/liveliness", lite.url))
            .send()
            .await
            && r.status().is_success()
        {
            return Ok(lite);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    anyhow::bail!("LiteLLM did not start within 120 s")
}
