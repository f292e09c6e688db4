//! The one typed configuration of `flightdeck serve`, resolved once at start:
//! defaults < config file < environment < flags. Unknown keys in the file are errors.

use crate::cli::ServeArgs;
use anyhow::Context;
use flightdeck_model::{Limits, ModelPrice, Pricing};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    /// The OTLP/gRPC address; `""` turns the listener off.
    otlp_grpc_addr: Option<String>,
    /// Extra or corrected prices, by model name.
    #[serde(default)]
    pricing: BTreeMap<String, ModelPrice>,
}

/// The resolved configuration.
#[derive(Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub db: PathBuf,
    pub retain_days: Option<u32>,
    pub max_body_bytes: usize,
    pub limits: Limits,
    pub pricing: Pricing,
    /// Where to serve OTLP/gRPC; `None`: not at all.
    pub otlp_grpc_addr: Option<SocketAddr>,
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
        };
        Ok(Config {
            addr: args
                .addr
                .or(file.addr)
                .unwrap_or_else(|| DEFAULT_ADDR.parse().expect("valid default address")),
            db: args.db.or(file.db).unwrap_or_else(default_db),
            retain_days: args.retain_days.or(file.retain_days),
            max_body_bytes: args
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(16 * 1024 * 1024),
            limits,
            pricing,
            otlp_grpc_addr,
        })
    }
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
        assert_eq!(c.pricing.price("my-llm").unwrap().output, 2.0);
        assert_eq!(
            c.otlp_grpc_addr.unwrap().to_string(),
            DEFAULT_OTLP_GRPC_ADDR
        );
    }

    #[test]
    fn otlp_grpc_is_moved_or_turned_off_by_file_or_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flightdeck.toml");
        let resolve = |file: &str, args: ServeArgs| {
            std::fs::write(&path, file).unwrap();
            Config::resolve(ServeArgs {
                config: Some(path.clone()),
                ..args
            })
        };
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
}
