//! The trace file commands: `export` (sessions to native JSONL or OTLP/JSON), `import`
//! (files of any supported format into the database or a running server) and `watch` (and
//! `serve --watch`: files followed as they grow), over `flightdeck_server::files`. See
//! docs/files.md.

use crate::cli::{
    ExportArgs, ImportArgs, ServeCommand, ShareArgs, Target, WatchArgs, WatchOptions,
};
use crate::config::Config;
use anyhow::{Context, bail};
use flightdeck_model::Limits;
use flightdeck_server::AppState;
use flightdeck_server::files::export::render;
use flightdeck_server::files::import::import_file;
use flightdeck_server::files::sink::{Remote, Sink};
use flightdeck_server::files::watch::{WatchConfig, Watcher};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Where a file command writes: its own store (closed at the end), or a running server.
pub enum Opened {
    Local(AppState),
    Remote(String),
}

impl Opened {
    /// Opens the target; also gives the token for a server and the field limits lines are
    /// checked against (the config's, as `serve` would apply them).
    pub async fn open(target: Target) -> anyhow::Result<(Opened, Option<String>, Limits)> {
        let token = target.serve.token.clone();
        let config = Config::resolve(target.serve)?;
        let limits = config.limits;
        let opened = match target.server {
            Some(url) => Opened::Remote(url),
            None => Opened::Local(crate::serve::open(config).await?),
        };
        Ok((opened, token, limits))
    }

    pub fn sink(&self, token: Option<String>) -> Sink {
        match self {
            Opened::Local(app) => Sink::Local(std::sync::Arc::clone(app)),
            Opened::Remote(url) => Sink::Remote(Remote::new(url, token)),
        }
    }

    /// Stores everything accepted (a local store) before the command ends.
    pub async fn close(self) -> anyhow::Result<()> {
        if let Opened::Local(app) = self {
            app.store.close().await.context("closing the database")?;
        }
        Ok(())
    }
}

/// `flightdeck export`.
pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let (opened, token, _) = Opened::open(args.target).await?;
    let mut out = String::new();
    for id in &args.sessions {
        let text = match &opened {
            Opened::Local(app) => render(app.store.as_ref(), id, args.format).await?,
            Opened::Remote(url) => fetch(url, token.as_deref(), id, args.format).await?,
        };
        match text {
            Some(t) => out.push_str(&t),
            None => bail!("no session {id:?}"),
        }
    }
    opened.close().await?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, out).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => std::io::stdout().write_all(out.as_bytes())?,
    }
    Ok(())
}

/// One session's export from a running server; `None` when it has no such session.
async fn fetch(
    base: &str,
    token: Option<&str>,
    id: &str,
    format: flightdeck_server::files::export::ExportFormat,
) -> anyhow::Result<Option<String>> {
    let format = match format {
        flightdeck_server::files::export::ExportFormat::Native => "native",
        flightdeck_server::files::export::ExportFormat::Otlp => "otlp",
    };
    download(base, token, id, "export", Some(format)).await
}

/// `GET /api/v1/sessions/{id}/{what}` of a running server; `None` on 404.
async fn download(
    base: &str,
    token: Option<&str>,
    id: &str,
    what: &str,
    format: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let mut url = reqwest::Url::parse(base).with_context(|| format!("bad --server {base:?}"))?;
    url.path_segments_mut()
        .map_err(|_| anyhow::anyhow!("bad --server {base:?}"))?
        .pop_if_empty()
        .extend(["api", "v1", "sessions", id, what]);
    if let Some(f) = format {
        url.query_pairs_mut().append_pair("format", f);
    }
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req
        .send()
        .await
        .with_context(|| format!("cannot reach {base}"))?;
    match res.status().as_u16() {
        200 => Ok(Some(res.text().await?)),
        404 => Ok(None),
        s => bail!(
            "{base} answered {s}: {}",
            res.text().await.unwrap_or_default()
        ),
    }
}

/// `flightdeck share`.
pub async fn share(args: ShareArgs) -> anyhow::Result<()> {
    let (opened, token, _) = Opened::open(args.target).await?;
    let id = &args.session;
    let page = match &opened {
        Opened::Local(app) => flightdeck_server::files::share::page(app.store.as_ref(), id).await?,
        Opened::Remote(url) => download(url, token.as_deref(), id, "share", None).await?,
    };
    opened.close().await?;
    let Some(page) = page else {
        bail!("no session {id:?}");
    };
    std::fs::write(&args.output, page)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    Ok(())
}

/// `flightdeck import`.
pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let (opened, token, limits) = Opened::open(args.target).await?;
    let sink = std::sync::Arc::new(opened.sink(token));
    let total: u64 = args
        .files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if args.quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = String::new();
    let (mut spans, mut rejected, mut failed) = (0u64, 0u64, 0usize);
    for path in &args.files {
        bar.set_message(path.display().to_string());
        let result = import_file(
            std::sync::Arc::clone(&sink),
            path,
            args.format,
            limits,
            |n| bar.inc(n),
        )
        .await;
        let name = path.display();
        match result {
            Ok((format, r)) => {
                spans += r.spans;
                rejected += r.rejected_lines;
                summary += &format!(
                    "{name}: {} ({}), {} lines: {} stored ({} spans), {} lines rejected\n",
                    format.name(),
                    if args.format.is_some() {
                        "as given"
                    } else {
                        "detected"
                    },
                    r.lines,
                    r.stored,
                    r.spans,
                    r.rejected_lines
                );
                for (line, why) in &r.rejections {
                    summary += &format!("  {name}:{line}: {why}\n");
                }
                if r.rejected_lines > r.rejections.len() as u64 {
                    summary += &format!(
                        "  ... and {} more rejected lines\n",
                        r.rejected_lines - r.rejections.len() as u64
                    );
                }
                if let Some(m) = &r.refused_message {
                    summary += &format!(
                        "  {} items refused inside accepted lines; first: {m}\n",
                        r.refused_items
                    );
                }
            }
            Err(e) => {
                failed += 1;
                summary += &format!("{name}: not imported: {e}\n");
            }
        }
    }
    bar.finish_and_clear();
    opened.close().await?;
    print!("{summary}");
    println!(
        "imported {spans} spans from {} files; {rejected} lines rejected, {failed} files failed",
        args.files.len() - failed
    );
    if failed > 0 {
        bail!(
            "{failed} of {} files could not be imported",
            args.files.len()
        );
    }
    Ok(())
}

/// `flightdeck serve`, watching files beside when given `--watch`.
pub async fn serve(args: ServeCommand) -> anyhow::Result<()> {
    let config = Config::resolve(args.serve)?;
    let watch = (!args.watch.is_empty()).then(|| watching(args.watch, args.watching, &config));
    serve_watching(config, watch).await
}

/// `flightdeck watch`: into a running server, or a server of its own.
pub async fn watch(args: WatchArgs) -> anyhow::Result<()> {
    let token = args.target.serve.token.clone();
    let config = Config::resolve(args.target.serve)?;
    let watch = watching(args.paths, args.watching, &config);
    let Some(url) = args.target.server else {
        return serve_watching(config, Some(watch)).await;
    };
    let watcher = Watcher::open(watch).map_err(anyhow::Error::msg)?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        crate::serve::shutdown_signal().await;
        let _ = stop.send(true);
    });
    tracing::info!(server = %url, "watching into {url}");
    watcher
        .run(Sink::Remote(Remote::new(&url, token)), stopped)
        .await;
    Ok(())
}

fn watching(paths: Vec<PathBuf>, options: WatchOptions, config: &Config) -> WatchConfig {
    let mut watch = WatchConfig::new(paths, config.limits);
    watch.format = options.format;
    watch.state = Some(options.state.unwrap_or_else(|| {
        config.db.local_dir().map_or_else(
            || PathBuf::from("watch-state.json"),
            |d| d.join("watch-state.json"),
        )
    }));
    watch
}

/// Serves until Ctrl-C or SIGTERM, following `watch`'s files into the server's own store.
async fn serve_watching(config: Config, watch: Option<WatchConfig>) -> anyhow::Result<()> {
    let watcher = watch
        .map(Watcher::open)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let bound = crate::serve::bind(config).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    if let Some(watcher) = watcher {
        tokio::spawn(watcher.run(Sink::Local(bound.app()), stopped));
    }
    bound
        .run(async move {
            crate::serve::shutdown_signal().await;
            let _ = stop.send(true);
        })
        .await
}
