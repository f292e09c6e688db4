//! `watch`: the files named by paths, folders and globs, followed until told to stop. Files
//! are polled (every 10 ms by default): appends reach the sink within a poll, rotation and
//! truncation are seen by the same look (identity and length), and it works the same on
//! every filesystem, network and container mounts included, where change notifications
//! (inotify and its kin, the `notify` crate) are not delivered. A stat per file per poll is
//! the cost. Folders and globs are searched again every half second for new files.

use super::format::Format;
use super::sink::{SendError, Sink};
use super::state::State;
use super::tail::Tail;
use flightdeck_model::Limits;
use globset::GlobBuilder;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

/// How deep folders and globs are searched.
const MAX_DEPTH: usize = 8;

/// What to watch, and how.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    /// Files, folders (every file below them) and globs (`logs/**/*.jsonl`).
    pub paths: Vec<PathBuf>,
    /// The format of every file, when their first lines cannot tell.
    pub format: Option<Format>,
    pub limits: Limits,
    /// The state file keeping offsets across restarts; `None` keeps them in memory.
    pub state: Option<PathBuf>,
    /// How often files are looked at.
    pub poll: Duration,
    /// How often folders and globs are searched for new files.
    pub rescan: Duration,
}

impl WatchConfig {
    pub fn new(paths: Vec<PathBuf>, limits: Limits) -> WatchConfig {
        WatchConfig {
            paths,
            format: None,
            limits,
            state: None,
            poll: Duration::from_millis(10),
            rescan: Duration::from_millis(500),
        }
    }
}

/// A watch ready to run: its state file read.
pub struct Watcher {
    config: WatchConfig,
    state: State,
}

impl Watcher {
    /// Reads the state file; an error names a state file that cannot be read.
    pub fn open(config: WatchConfig) -> Result<Watcher, String> {
        let state = State::load(config.state.as_deref())?;
        Ok(Watcher { config, state })
    }

    /// Follows the files until `stop` turns true. Bad lines are logged with file and line
    /// and skipped; a sink that is away is retried (each file from its last stored line).
    pub async fn run(self, sink: Sink, stop: tokio::sync::watch::Receiver<bool>) {
        run(sink, self.config, self.state, stop).await
    }
}

async fn run(
    sink: Sink,
    config: WatchConfig,
    mut state: State,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tails: Vec<Tail> = Vec::new();
    let mut known = BTreeSet::new();
    let mut last_scan: Option<Instant> = None;
    let mut away_until: Option<Instant> = None;
    let mut tick = tokio::time::interval(config.poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if last_scan.is_none_or(|t| t.elapsed() >= config.rescan) {
            last_scan = Some(Instant::now());
            for path in find(&config.paths, config.state.as_deref()) {
                if known.insert(path.clone()) {
                    tracing::info!(file = %path.display(), "watching");
                    let resume = state.get(&path);
                    tails.push(Tail::new(path, config.format, config.limits, resume));
                }
            }
        }
        if away_until.is_some_and(|t| Instant::now() < t) {
            continue;
        }
        away_until = None;
        for tail in &mut tails {
            match tail.poll(&sink, &mut state).await {
                Ok(polled) => {
                    for (line, why) in polled.rejected {
                        tracing::warn!(file = %tail.path().display(), line, "skipped a bad line: {why}");
                    }
                }
                Err(SendError::Unavailable(why)) | Err(SendError::Refused(why)) => {
                    tracing::warn!(file = %tail.path().display(), "could not store what was read ({why}); trying again in a second");
                    away_until = Some(Instant::now() + Duration::from_secs(1));
                    break;
                }
            }
        }
    }
}

/// The files the paths name now: files as given (even before they exist), every file under
/// a folder, every file matching a glob. Hidden files, the state file and its temporary
/// are left out.
pub fn find(paths: &[PathBuf], state: Option<&Path>) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for p in paths {
        let text = p.to_string_lossy();
        if text.contains(['*', '?', '[', '{']) {
            let base: PathBuf = p
                .components()
                .take_while(|c| {
                    !c.as_os_str()
                        .to_string_lossy()
                        .contains(['*', '?', '[', '{'])
                })
                .collect();
            let Ok(glob) = GlobBuilder::new(&text).literal_separator(true).build() else {
                tracing::warn!(pattern = %text, "not a valid glob");
                continue;
            };
            let matcher = glob.compile_matcher();
            walk(&base, 0, &mut |f| {
                if matcher.is_match(f) {
                    out.insert(f.to_owned());
                }
            });
        } else if p.is_dir() {
            walk(p, 0, &mut |f| {
                out.insert(f.to_owned());
            });
        } else {
            out.insert(p.clone());
        }
    }
    // Absolute, so the state file's paths mean the same from any working directory.
    let mut out: BTreeSet<PathBuf> = out
        .into_iter()
        .map(|p| std::path::absolute(&p).unwrap_or(p))
        .collect();
    if let Some(s) = state.map(|s| std::path::absolute(s).unwrap_or_else(|_| s.to_owned())) {
        out.remove(&s);
        out.remove(&s.with_extension("tmp"));
    }
    out
}

fn walk(dir: &Path, depth: usize, each: &mut impl FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = matches!(path.components().next_back(), Some(Component::Normal(n)) if n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() && depth < MAX_DEPTH => walk(&path, depth + 1, each),
            Ok(t) if t.is_file() => each(&path),
            _ => {}
        }
    }
}
