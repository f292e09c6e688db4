//! Whole files into a sink: the format told from the file's start (or given), lines read in
//! chunks, cut into blocks of whole lines that tasks decode and store side by side (each
//! through a [`Feed`]), progress reported in bytes, and a [`Report`] per file.

use super::feed::{Feed, Report};
use super::format::{self, Format, detect};
use super::lines::Lines;
use super::sink::{SendError, Sink};
use crate::otlp::body::Encoding;
use flightdeck_model::Limits;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

/// Bytes read at a time.
const CHUNK: usize = 1 << 20;

/// Why a file could not be imported (beyond its bad lines, which the report lists).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Io(String),
    #[error("cannot tell the format of {0} from its first line; name it with --format ({formats})", formats = Format::NAMES.join(", "))]
    UnknownFormat(String),
    #[error(transparent)]
    Send(#[from] SendError),
}

/// Imports `path` into `sink`; `progress` is told the bytes read as they are.
pub async fn import_file(
    sink: Arc<Sink>,
    path: &Path,
    format: Option<Format>,
    limits: Limits,
    mut progress: impl FnMut(u64),
) -> Result<(Format, Report), ImportError> {
    let io = |e: std::io::Error| ImportError::Io(format!("{}: {e}", path.display()));
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut chunk = vec![0u8; CHUNK];
    let n = read_full(&mut file, &mut chunk).map_err(io)?;
    let format = match format.or_else(|| detect(&chunk[..n])) {
        Some(f) => f,
        None if n == 0 => Format::Native,
        None => return Err(ImportError::UnknownFormat(path.display().to_string())),
    };
    if !format.is_lines() {
        let mut feed = Feed::new(format, limits);
        let mut bytes = chunk[..n].to_vec();
        file.read_to_end(&mut bytes).map_err(io)?;
        progress(bytes.len() as u64);
        let logs = is_logs(path);
        for (i, record) in format::proto_records(&bytes).into_iter().enumerate() {
            match format::otlp(Encoding::Protobuf, record, logs) {
                Ok(b) => {
                    feed.report.lines += 1;
                    feed.batch(i as u64 + 1, b);
                }
                Err(why) => feed.reject(i as u64 + 1, why),
            }
            if feed.full() {
                feed.flush(&sink).await?;
            }
        }
        feed.flush(&sink).await?;
        return Ok((format, feed.report));
    }
    // Blocks of whole lines are decoded and stored by tasks of their own, a few at once:
    // decoding and compression (in `Store::append`'s prepare step) then use every core. The
    // store's merge rules make the order of the blocks' commits irrelevant.
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8);
    let mut tasks = tokio::task::JoinSet::new();
    let mut report = Report::default();
    let mut lines = Lines::at(0, 1);
    let mut block = Block::default();
    let mut len = n;
    loop {
        let last = len == 0;
        if last {
            lines.finish(|line| block.add(line.number, line.bytes));
        } else {
            lines.push(&chunk[..len], |line| block.add(line.number, line.bytes));
            progress(len as u64);
        }
        if last || block.bytes.len() >= BLOCK {
            let taken = std::mem::take(&mut block);
            tasks.spawn(store_block(Arc::clone(&sink), format, limits, taken));
            while tasks.len() >= workers || (last && !tasks.is_empty()) {
                if let Some(done) = tasks.join_next().await {
                    report.merge(done.map_err(|e| ImportError::Io(e.to_string()))??);
                }
            }
        }
        if last {
            break;
        }
        len = read_full(&mut file, &mut chunk).map_err(io)?;
    }
    report.rejections.sort_by_key(|r| r.0);
    Ok((format, report))
}

/// Bytes of whole lines sent to the store together.
const BLOCK: usize = 2 << 20;

/// Whole lines of a file, with the number of the first.
#[derive(Default)]
struct Block {
    first: u64,
    bytes: Vec<u8>,
}

impl Block {
    fn add(&mut self, number: u64, line: &[u8]) {
        if self.bytes.is_empty() {
            self.first = number;
        }
        self.bytes.extend_from_slice(line);
        self.bytes.push(b'\n');
    }
}

/// Decodes a block's lines and stores them.
async fn store_block(
    sink: Arc<Sink>,
    format: Format,
    limits: Limits,
    block: Block,
) -> Result<Report, ImportError> {
    let mut feed = Feed::new(format, limits);
    Lines::at(0, block.first).push(&block.bytes, |line| feed.line(line));
    feed.flush(&sink).await?;
    Ok(feed.report)
}

/// An OTLP protobuf file of logs rather than traces: the two requests cannot be told apart
/// by their bytes (both start with field 1), so the name says it (`logs.pb`, `app-logs.bin`).
pub fn is_logs(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().contains("log"))
}

/// Fills `buf` as far as the file goes; returns the bytes read (0 at the end).
fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
