//! Mock tools: each call takes time, some fail, and failed calls are retried with backoff.
//! Every attempt is its own tool span.

use crate::ctx::Ctx;
use flightdeck_sdk::{Level, Span, SpanKind};
use serde_json::Value;

/// A tool an agent can call.
pub(crate) struct Tool {
    pub(crate) name: &'static str,
    /// Latency range, simulated milliseconds.
    latency_ms: (f64, f64),
    /// The chance that one attempt fails.
    failure: f64,
    /// What a failure says.
    errors: &'static [&'static str],
}

/// Attempts per call before giving up.
const ATTEMPTS: u32 = 3;

// The heist crew.
pub(crate) const CHECK_GUARD_ROTATION: Tool = Tool {
    name: "check_guard_rotation",
    latency_ms: (300.0, 900.0),
    failure: 0.05,
    errors: &["badge reader offline"],
};
pub(crate) const SCAN_CAMERAS: Tool = Tool {
    name: "scan_cameras",
    latency_ms: (800.0, 2200.0),
    failure: 0.15,
    errors: &[
        "camera subnet unreachable: connection timed out",
        "nmap: host seems down",
    ],
};
pub(crate) const LOOP_CAMERA_FEED: Tool = Tool {
    name: "loop_camera_feed",
    latency_ms: (1200.0, 3000.0),
    failure: 0.2,
    errors: &[
        "feed checksum mismatch; loop detected by NVR",
        "stream encoder rejected the injected frames",
    ],
};
pub(crate) const DISABLE_ALARM: Tool = Tool {
    name: "disable_alarm",
    latency_ms: (900.0, 2500.0),
    failure: 0.2,
    errors: &["alarm panel firmware refused the override code"],
};
pub(crate) const CRACK_SAFE: Tool = Tool {
    name: "crack_safe",
    latency_ms: (2500.0, 6000.0),
    failure: 0.25,
    errors: &["tumbler 3 slipped; wheel pack reset", "relocker engaged"],
};
pub(crate) const DRILL_LOCK: Tool = Tool {
    name: "drill_lock",
    latency_ms: (4000.0, 9000.0),
    failure: 0.2,
    errors: &["drill bit snapped on hardplate"],
};

// The coding pipeline.
pub(crate) const GIT_CHECKOUT: Tool = Tool {
    name: "git_checkout",
    latency_ms: (200.0, 700.0),
    failure: 0.02,
    errors: &["fatal: unable to access remote: 502 Bad Gateway"],
};
pub(crate) const READ_FILE: Tool = Tool {
    name: "read_file",
    latency_ms: (50.0, 250.0),
    failure: 0.02,
    errors: &["ENOENT: no such file or directory"],
};
pub(crate) const APPLY_PATCH: Tool = Tool {
    name: "apply_patch",
    latency_ms: (150.0, 500.0),
    failure: 0.08,
    errors: &["patch does not apply: hunk #2 FAILED at 118"],
};
pub(crate) const RUN_TESTS: Tool = Tool {
    name: "run_tests",
    latency_ms: (3000.0, 12000.0),
    failure: 0.03,
    errors: &["test runner killed by signal 9 (out of memory)"],
};
pub(crate) const GIT_COMMIT: Tool = Tool {
    name: "git_commit",
    latency_ms: (150.0, 400.0),
    failure: 0.02,
    errors: &["pre-commit hook failed: rustfmt"],
};
pub(crate) const GIT_PUSH: Tool = Tool {
    name: "git_push",
    latency_ms: (600.0, 1800.0),
    failure: 0.12,
    errors: &[
        "remote: Internal Server Error",
        "ssh: connect to host github.com port 22: Connection timed out",
    ],
};

// The research orchestrator.
pub(crate) const WEB_SEARCH: Tool = Tool {
    name: "web_search",
    latency_ms: (700.0, 2000.0),
    failure: 0.12,
    errors: &["search API returned 503", "search quota exceeded"],
};
pub(crate) const FETCH_URL: Tool = Tool {
    name: "fetch_url",
    latency_ms: (400.0, 2500.0),
    failure: 0.15,
    errors: &[
        "HTTP 403 Forbidden",
        "read timeout after 10s",
        "robots.txt disallows this path",
    ],
};
pub(crate) const RUN_PYTHON: Tool = Tool {
    name: "run_python",
    latency_ms: (800.0, 4000.0),
    failure: 0.1,
    errors: &["KeyError: 'revenue'", "MemoryError"],
};

/// Calls `tool`, retrying failed attempts with backoff.
pub(crate) async fn invoke(
    ctx: &mut Ctx,
    parent: &Span,
    tool: &Tool,
    input: Value,
    output: Value,
) -> Result<Value, String> {
    let mut last_error = String::new();
    for attempt in 1..=ATTEMPTS {
        let span = ctx
            .child(parent, SpanKind::Tool, tool.name)
            .input(&input)
            .attribute("attempt", &attempt)
            .start();
        ctx.wait(tool.latency_ms.0, tool.latency_ms.1).await;
        if !ctx.dice.chance(tool.failure) {
            span.set_output(&output);
            span.end();
            return Ok(output);
        }
        last_error = ctx.dice.pick(tool.errors).to_string();
        ctx.fail(span, &last_error);
        if attempt < ATTEMPTS {
            let backoff = 400.0 * f64::from(1u32 << attempt);
            let note = format!(
                "{} failed ({last_error}); retry {attempt} in {backoff} ms",
                tool.name
            );
            ctx.log(parent, Level::Warn, &note);
            ctx.pace.wait(backoff).await;
        }
    }
    Err(format!(
        "{} failed {ATTEMPTS} times: {last_error}",
        tool.name
    ))
}

/// Calls `tool` once, and it fails with `error`: no retry helps.
pub(crate) async fn trip(ctx: &mut Ctx, parent: &Span, tool: &Tool, input: Value, error: &str) {
    let span = ctx
        .child(parent, SpanKind::Tool, tool.name)
        .input(&input)
        .start();
    ctx.wait(tool.latency_ms.0, tool.latency_ms.1).await;
    ctx.fail(span, error);
}
