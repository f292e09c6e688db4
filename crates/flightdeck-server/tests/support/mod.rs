//! Shared by the server's integration tests: the real server of `flightdeck_server::testing`,
//! and the Python interpreter with the ecosystem's real clients.

#![allow(dead_code)] // each test file uses part of this

use std::path::PathBuf;

pub use flightdeck_server::testing::TestServer;

/// The Python interpreter of the test virtualenv (`scripts/python-env.sh`), or `None` when
/// the suite runs without it. Under CI, running without it is an error, not a skip.
pub fn python() -> Option<PathBuf> {
    match std::env::var_os("FLIGHTDECK_PYTHON") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("CI").is_some() => {
            panic!("FLIGHTDECK_PYTHON is not set: run the suites through scripts/test.sh")
        }
        None => {
            eprintln!("skipped: FLIGHTDECK_PYTHON is not set (scripts/test.sh sets it)");
            None
        }
    }
}

/// A script of `tests/python/` at the repository root.
pub fn python_script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/python")
        .join(name)
}
