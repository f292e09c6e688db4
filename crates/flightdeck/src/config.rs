//! The one typed configuration of `flightdeck serve`, resolved once at start:
//! defaults < config file < environment < flags. Unknown keys in the file are errors.

use crate::cli::ServeArgs;
use crate::database::Database;
use anyhow::Context;
use flightdeck_model::{Limits, ModelPrice, Pricing};
use flightdeck_server::auth::AuthConfig;
use flightdeck_server::proxy::config::{ProxyConfig, UpstreamSettings};
use flightdeck_server::proxy::gate::{Rule, RuleSettings};
use flightdeck_server::reviews::ReviewConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default listen address: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7329";
/// The default OTLP/gRPC address: the OTLP port, on loopback only.
pub const DEFAULT_OTLP_GRPC_ADDR: &str = "127.0.0.1:4317";

/// The keys a `flightdeck.toml` may set.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<SocketAddr>,
    db: Option<PathBuf>,
    retain_days: Option<u32>,
    max_body_bytes: Option<usize>,
    max_field_bytes: Option<usize>,
    max_json_depth: Option<usize>,
    allowed_origins: Option<Vec<String>>,
    live_queue: Option<usize>,
    heartbeat_secs: Option<u64>,
    agent_offline_secs: Option<u64>,
    otlp_session_idle_secs: Option<u64>,
    system_metrics_secs: Option<u64>,
    metrics_raw_hours: Option<u64>,
    metrics_retain_days: Option<u64>,
    /// Credentials; at least one is required to listen beyond loopback.
    token: Option<String>,
    password: Option<String>,
    /// The OTLP/gRPC address; `""` turns the listener off.
    otlp_grpc_addr: Option<String>,
    /// Extra or corrected prices, by model name.
    #[serde(default)]
    pricing: BTreeMap<String, ModelPrice>,
    #[serde(default)]
    proxy: FileProxy,
    #[serde(default)]
    review: FileReview,
}

/// The `[review]` section: review gates.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileReview {
    abandon_after_secs: Option<u64>,
    max_wait_secs: Option<u64>,
    /// Zero-code gates of the proxy (`[[review.rules]]`).
    #[serde(default)]
    rules: Vec<RuleSettings>,
}

/// The longest single long-poll may be: under the 60 s that HTTP clients and proxies
/// commonly allow.
const MAX_WAIT_SECS: (u64, u64) = (1, 59);

/// The `[proxy]` section.
#[derive(Deserialize, Default, Debug)]
#[serde(deny_unknown_fields)]
struct FileProxy {
    /// Added to (or replacing) the built-in `openai` and `anthropic` upstreams.
    #[serde(default)]
    upstreams: BTreeMap<String, UpstreamSettings>,
    session_idle_secs: Option<u64>,
    timeout_secs: Option<u64>,
}

/// The resolved configuration.
#[derive(Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub db: Database,
    pub retain_days: Option<u32>,
    pub max_body_bytes: usize,
    pub limits: Limits,
    pub pricing: Pricing,
    /// Origins besides the served one whose pages may open `/ws`.
    pub allowed_origins: Vec<String>,
    pub live_queue: usize,
    pub heartbeat: Duration,
    /// An agent whose last `agent.status` is older than this shows as offline.
    pub agent_offline_after: Duration,
    /// An OTLP session with every span ended that is quiet this long is completed.
    pub otlp_session_idle: Duration,
    /// How often the host, GPUs and process are sampled; none: off.
    pub system_metrics: Option<Duration>,
    /// How long metric samples stay as sampled, and how long series are kept at all.
    pub metrics_raw: Duration,
    pub metrics_retain: Duration,
    pub proxy: ProxyConfig,
    /// Where to serve OTLP/gRPC; `None`: not at all.
    pub otlp_grpc_addr: Option<SocketAddr>,
    /// What clients must present.
    pub auth: AuthConfig,
    pub reviews: ReviewConfig,
}

impl Config {
    /// Merges flags and environment (already combined by clap) over the file and defaults.
    pub fn resolve(args: ServeArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let mut pricing = Pricing::built_in();
        pricing.extend(file.pricing);
        let otlp_grpc_addr = if args.no_otlp_grpc {
            None
        } else if let Some(addr) = args.otlp_grpc_addr {
            Some(addr)
        } else {
            match file.otlp_grpc_addr.as_deref().map(str::trim) {
                Some("") => None,
                Some(addr) => Some(addr.parse().with_context(|| {
                    format!(
                        "otlp_grpc_addr {addr:?} is not HOST:PORT (or \"\" to turn OTLP/gRPC off)"
                    )
                })?),
                None => Some(
                    DEFAULT_OTLP_GRPC_ADDR
                        .parse()
                        .expect("valid default address"),
                ),
            }
        };
        let limits = Limits {
            max_field_bytes: args
                .max_field_bytes
                .or(file.max_field_bytes)
                .unwrap_or(Limits::default().max_field_bytes),
            max_json_depth: at_least_one(
                "max_json_depth",
                args.max_json_depth
                    .or(file.max_json_depth)
                    .unwrap_or(Limits::default().max_json_depth),
            )?,
        };
        let mut proxy = proxy_config(file.proxy)?;
        proxy.review_rules = review_rules(&proxy, file.review.rules)?;
        let reviews = review_config(
            args.review_abandon_secs.or(file.review.abandon_after_secs),
            args.review_max_wait_secs.or(file.review.max_wait_secs),
        )?;
        let auth = AuthConfig {
            token: secret("token", args.token.or(file.token), true)?,
            password: secret("password", args.password.or(file.password), false)?,
        };
        let addr = args
            .addr
            .or(file.addr)
            .unwrap_or_else(|| DEFAULT_ADDR.parse().expect("valid default address"));
        for at in std::iter::once(addr).chain(otlp_grpc_addr) {
            if !at.ip().is_loopback() && !auth.is_required() {
                anyhow::bail!(
                    "listening on {at}, beyond loopback, needs credentials: set FLIGHTDECK_TOKEN \
                     (for SDKs, exporters and scripts) and/or FLIGHTDECK_PASSWORD (for the web \
                     page), or `token` / `password` in the config file"
                );
            }
        }
        Ok(Config {
            proxy,
            auth,
            reviews,
            addr,
            db: Database::named(args.db.or(file.db).unwrap_or_else(default_db)),
            retain_days: args.retain_days.or(file.retain_days),
            max_body_bytes: args
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(16 * 1024 * 1024),
            limits,
            pricing,
            allowed_origins: origins(if args.allow_origin.is_empty() {
                file.allowed_origins.unwrap_or_default()
            } else {
                args.allow_origin
            })?,
            live_queue: at_least_one(
                "live_queue",
                args.live_queue.or(file.live_queue).unwrap_or(1024),
            )?,
            heartbeat: Duration::from_secs(at_least_one(
                "heartbeat_secs",
                args.heartbeat_secs.or(file.heartbeat_secs).unwrap_or(15),
            )?),
            agent_offline_after: Duration::from_secs(at_least_one(
                "agent_offline_secs",
                args.agent_offline_secs
                    .or(file.agent_offline_secs)
                    .unwrap_or(30),
            )?),
            otlp_session_idle: Duration::from_secs(at_least_one(
                "otlp_session_idle_secs",
                args.otlp_session_idle_secs
                    .or(file.otlp_session_idle_secs)
                    .unwrap_or(flightdeck_server::otlp::SESSION_IDLE.as_secs()),
            )?),
            metrics_raw: Duration::from_secs(
                3600 * at_least_one(
                    "metrics_raw_hours",
                    args.metrics_raw_hours
                        .or(file.metrics_raw_hours)
                        .unwrap_or(24),
                )?,
            ),
            metrics_retain: Duration::from_secs(
                86_400
                    * at_least_one(
                        "metrics_retain_days",
                        args.metrics_retain_days
                            .or(file.metrics_retain_days)
                            .unwrap_or(30),
                    )?,
            ),
            system_metrics: match args.system_metrics_secs.or(file.system_metrics_secs) {
                Some(0) => None,
                Some(s) => Some(Duration::from_secs(s)),
                None => Some(Duration::from_secs(5)),
            },
            otlp_grpc_addr,
        })
    }
}

/// A configured secret, trimmed: `None` when unset, an error when blank, or, for one that
/// travels in a header (`in_header`), when it holds anything but visible ASCII.
fn secret(key: &str, value: Option<String>, in_header: bool) -> anyhow::Result<Option<String>> {
    let Some(v) = value.map(|v| v.trim().to_owned()) else {
        return Ok(None);
    };
    anyhow::ensure!(!v.is_empty(), "{key} is set but empty");
    anyhow::ensure!(
        !in_header || v.bytes().all(|b| b.is_ascii_graphic()),
        "{key} must be visible ASCII characters (no spaces), to travel in an HTTP header"
    );
    Ok(Some(v))
}

fn proxy_config(file: FileProxy) -> anyhow::Result<ProxyConfig> {
    let mut proxy = ProxyConfig::default();
    for (name, upstream) in file.upstreams {
        proxy
            .set_upstream(&name, upstream)
            .map_err(anyhow::Error::msg)?;
        let upstream = proxy.upstreams.get_mut(&name).expect("just set");
        if upstream.api_key.is_none()
            && let Some(var) = &upstream.api_key_env
        {
            let key = std::env::var(var).with_context(|| {
                format!("proxy upstream {name:?}: the environment variable {var} is not set")
            })?;
            upstream.api_key = Some(key);
        }
    }
    if let Some(s) = file.session_idle_secs {
        proxy.session_idle = std::time::Duration::from_secs(s);
    }
    if let Some(s) = file.timeout_secs {
        proxy.timeout = std::time::Duration::from_secs(s);
    }
    Ok(proxy)
}

/// The proxy's review gates, checked: each rule's globs and timeout, and its upstream known.
fn review_rules(proxy: &ProxyConfig, rules: Vec<RuleSettings>) -> anyhow::Result<Vec<Rule>> {
    rules
        .into_iter()
        .enumerate()
        .map(|(i, settings)| {
            let rule = Rule::new(i + 1, settings).map_err(anyhow::Error::msg)?;
            if let Some(u) = rule.upstream() {
                anyhow::ensure!(
                    proxy.upstreams.contains_key(u),
                    "review rule {}: `upstream` {u:?} is not a proxy upstream (known: {})",
                    i + 1,
                    proxy
                        .upstreams
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            Ok(rule)
        })
        .collect()
}

/// The review gates' settings: the defaults, with what the flags or the file set.
fn review_config(
    abandon_secs: Option<u64>,
    max_wait_secs: Option<u64>,
) -> anyhow::Result<ReviewConfig> {
    let mut reviews = ReviewConfig::default();
    if let Some(s) = abandon_secs {
        reviews.abandon_after = Duration::from_secs(at_least_one("review.abandon_after_secs", s)?);
    }
    if let Some(s) = max_wait_secs {
        let (lo, hi) = MAX_WAIT_SECS;
        anyhow::ensure!(
            (lo..=hi).contains(&s),
            "review.max_wait_secs must be between {lo} and {hi} (under the 60 s that HTTP \
             clients commonly allow), not {s}"
        );
        reviews.max_wait = Duration::from_secs(s);
    }
    Ok(reviews)
}

fn at_least_one<T: PartialOrd + From<u8>>(key: &str, value: T) -> anyhow::Result<T> {
    anyhow::ensure!(value >= T::from(1), "{key} must be at least 1");
    Ok(value)
}

/// Checks that each origin is `scheme://host[:port]`, as browsers send it.
fn origins(list: Vec<String>) -> anyhow::Result<Vec<String>> {
    for origin in &list {
        let authority = origin
            .trim_end_matches('/')
            .split_once("://")
            .map(|(_, rest)| rest);
        anyhow::ensure!(
            authority.is_some_and(|a| !a.is_empty() && !a.contains('/')),
            "allowed origin {origin:?} is not of the form scheme://host[:port]"
        );
    }
    Ok(list)
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
}

/// `$XDG_DATA_HOME/flightdeck/flightdeck.db`, else `~/.local/share/...`, else `./flightdeck.db`.
pub fn default_db() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    match data {
        Some(dir) => dir.join("flightdeck").join("flightdeck.db"),
        None => PathBuf::from("flightdeck.db"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolves `args` over a config file holding `file`, written in `dir`.
    fn resolve_file(
        dir: &tempfile::TempDir,
        file: &str,
        args: ServeArgs,
    ) -> anyhow::Result<Config> {
        let path = dir.path().join("flightdeck.toml");
        std::fs::write(&path, file).unwrap();
        Config::resolve(ServeArgs {
            config: Some(path),
            ..args
        })
    }

    #[test]
    fn flags_win_over_file_and_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flightdeck.toml");
        std::fs::write(
            &path,
            "addr = \"127.0.0.1:9000\"\nretain_days = 7\n[pricing.\"my-llm\"]\ninput = 1.0\noutput = 2.0\n",
        )
        .unwrap();
        let c = Config::resolve(ServeArgs {
            config: Some(path.clone()),
            retain_days: Some(3),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.addr.port(), 9000);
        assert_eq!(c.retain_days, Some(3));
        assert_eq!(c.max_body_bytes, 16 * 1024 * 1024);
        assert_eq!(c.heartbeat, Duration::from_secs(15));
        assert_eq!(c.agent_offline_after, Duration::from_secs(30));
        assert_eq!(c.otlp_session_idle, Duration::from_secs(60));
        assert_eq!(c.pricing.price("my-llm").unwrap().output, 2.0);
        assert_eq!(
            c.otlp_grpc_addr.unwrap().to_string(),
            DEFAULT_OTLP_GRPC_ADDR
        );
    }

    #[test]
    fn otlp_grpc_is_moved_or_turned_off_by_file_or_flag() {
        let dir = tempfile::tempdir().unwrap();
        let resolve = |file: &str, args: ServeArgs| resolve_file(&dir, file, args);
        let off = resolve("otlp_grpc_addr = \"\"\n", ServeArgs::default()).unwrap();
        assert_eq!(off.otlp_grpc_addr, None);
        let moved = resolve(
            "otlp_grpc_addr = \"127.0.0.1:14317\"\n",
            ServeArgs::default(),
        )
        .unwrap();
        assert_eq!(moved.otlp_grpc_addr.unwrap().port(), 14317);
        let flag = resolve(
            "otlp_grpc_addr = \"\"\n",
            ServeArgs {
                otlp_grpc_addr: Some("127.0.0.1:24317".parse().unwrap()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(flag.otlp_grpc_addr.unwrap().port(), 24317);
        let no = resolve(
            "",
            ServeArgs {
                no_otlp_grpc: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(no.otlp_grpc_addr, None);
        let bad = resolve("otlp_grpc_addr = \"4317\"\n", ServeArgs::default()).unwrap_err();
        assert!(format!("{bad:#}").contains("otlp_grpc_addr"), "{bad:#}");
    }

    #[test]
    fn the_example_config_is_valid() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flightdeck.example.toml");
        let c = Config::resolve(ServeArgs {
            config: Some(example),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.addr.to_string(), DEFAULT_ADDR);
        assert!(c.pricing.price("my-finetuned-model").is_some());
        assert_eq!(c.proxy.upstreams["local"].base_url, "http://127.0.0.1:8000");
        assert!(
            c.proxy.upstreams.contains_key("openai"),
            "built-in upstreams stay"
        );
        assert_eq!(c.allowed_origins, ["http://localhost:5173"]);
        assert_eq!(c.live_queue, 1024);
        assert_eq!(c.reviews.abandon_after, Duration::from_secs(90));
        assert_eq!(c.reviews.max_wait, Duration::from_secs(50));
    }

    #[test]
    fn allowed_origins_from_flags_replace_the_file_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flightdeck.toml");
        std::fs::write(&path, "allowed_origins = [\"http://a.example\"]\n").unwrap();
        let resolve = |flags: &[&str]| {
            Config::resolve(ServeArgs {
                config: Some(path.clone()),
                allow_origin: flags.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            })
        };
        assert_eq!(resolve(&[]).unwrap().allowed_origins, ["http://a.example"]);
        let c = resolve(&["http://b.example", "https://c.example:8443"]).unwrap();
        assert_eq!(
            c.allowed_origins,
            ["http://b.example", "https://c.example:8443"]
        );
        let err = resolve(&["b.example"]).unwrap_err().to_string();
        assert!(err.contains("scheme://host"), "{err}");
        assert!(resolve(&["http://b.example/path"]).is_err());
    }

    #[test]
    fn review_gates_are_set_by_file_or_flag_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let resolve = |file: &str, args: ServeArgs| resolve_file(&dir, file, args);
        let none = resolve("", ServeArgs::default()).unwrap();
        assert_eq!(none.reviews.abandon_after, Duration::from_secs(90));
        assert_eq!(none.reviews.max_wait, Duration::from_secs(50));
        let file = "[review]\nabandon_after_secs = 300\nmax_wait_secs = 20\n";
        let c = resolve(file, ServeArgs::default()).unwrap();
        assert_eq!(c.reviews.abandon_after, Duration::from_secs(300));
        assert_eq!(c.reviews.max_wait, Duration::from_secs(20));
        let flags = ServeArgs {
            review_abandon_secs: Some(12),
            review_max_wait_secs: Some(30),
            ..Default::default()
        };
        let c = resolve(file, flags).unwrap();
        assert_eq!(c.reviews.abandon_after, Duration::from_secs(12));
        assert_eq!(c.reviews.max_wait, Duration::from_secs(30));
        for (bad, key) in [
            ("[review]\nmax_wait_secs = 60\n", "review.max_wait_secs"),
            ("[review]\nmax_wait_secs = 0\n", "review.max_wait_secs"),
            (
                "[review]\nabandon_after_secs = 0\n",
                "review.abandon_after_secs",
            ),
            ("[review]\nabandon_secs = 10\n", "abandon_secs"),
            ("[[review.rules]]\ntools = []\n", "review rule 1"),
            (
                "[[review.rules]]\ntools = [\"x\"]\n[[review.rules]]\nupstream = \"nope\"\ntools = [\"y\"]\n",
                "review rule 2: `upstream` \"nope\"",
            ),
            (
                "[[review.rules]]\ntools = [\"x\"]\non_timeout = \"later\"\n",
                "on_timeout",
            ),
        ] {
            let err = resolve(bad, ServeArgs::default()).unwrap_err();
            assert!(format!("{err:#}").contains(key), "{bad}: {err:#}");
        }
        let rules = "[[review.rules]]\nupstream = \"openai\"\ntools = [\"delete_*\"]\ntimeout_secs = 60\non_timeout = \"exit_early\"\n";
        let c = resolve(rules, ServeArgs::default()).unwrap();
        assert_eq!(c.proxy.review_rules.len(), 1);
        assert_eq!(c.proxy.review_rules[0].upstream(), Some("openai"));
    }

    #[test]
    fn unknown_keys_are_rejected_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flightdeck.toml");
        std::fs::write(&path, "adress = \"127.0.0.1:9000\"\n").unwrap();
        let err = Config::resolve(ServeArgs {
            config: Some(path),
            ..Default::default()
        })
        .unwrap_err();
        let text = format!("{err:#}");
        assert!(
            text.contains("flightdeck.toml") && text.contains("adress"),
            "{text}"
        );
    }

    #[test]
    fn listening_beyond_loopback_needs_credentials() {
        let wide = || ServeArgs {
            addr: Some("0.0.0.0:7329".parse().unwrap()),
            ..Default::default()
        };
        let err = Config::resolve(wide()).unwrap_err().to_string();
        assert!(
            err.contains("0.0.0.0:7329") && err.contains("FLIGHTDECK_TOKEN"),
            "{err}"
        );
        let grpc = ServeArgs {
            otlp_grpc_addr: Some("0.0.0.0:4317".parse().unwrap()),
            ..Default::default()
        };
        assert!(Config::resolve(grpc).is_err(), "the gRPC port too");
        let c = Config::resolve(ServeArgs {
            token: Some("t0ken".into()),
            ..wide()
        })
        .unwrap();
        assert_eq!(c.auth.token.as_deref(), Some("t0ken"));
        let c = Config::resolve(ServeArgs {
            password: Some("hunter2".into()),
            ..wide()
        })
        .unwrap();
        assert!(c.auth.is_required());
        let blank = Config::resolve(ServeArgs {
            token: Some("  ".into()),
            ..Default::default()
        });
        assert!(
            blank
                .unwrap_err()
                .to_string()
                .contains("token is set but empty")
        );
    }
}
