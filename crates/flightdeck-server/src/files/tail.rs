//! Following one growing file: each complete line appended is decoded and sent, a line still
//! being written waits for its newline, a rotated file (a new file at the path: `mv` then
//! create, as logrotate does) is read to its end before the new one is taken from its start,
//! and a truncated file (shorter than what was read) is read again from its start. What was
//! stored is recorded in the [`State`] after every acknowledged batch; a failed send rewinds
//! to there, to be tried again.

use super::feed::Feed;
use super::format::{Format, detect};
use super::lines::Lines;
use super::sink::{SendError, Sink};
use super::state::{Offset, State};
use flightdeck_model::Limits;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Bytes read from one file per poll at most, so one busy file does not starve the others.
const PER_POLL: usize = 8 << 20;
/// Bytes of a file's start read to tell its format.
const HEAD: u64 = 64 << 10;

/// A followed file.
pub struct Tail {
    path: PathBuf,
    /// The open file and its identity; `None` until the file exists.
    file: Option<(File, (u64, u64))>,
    lines: Lines,
    /// Where reading goes on: past the last complete line and the partial one.
    read_at: u64,
    /// What is stored (acknowledged by the sink).
    acked: Offset,
    feed: Option<Feed>,
    format: Option<Format>,
    limits: Limits,
    /// The file's first line says no known format and none was given: it is skipped.
    unknown: bool,
    buf: Vec<u8>,
}

/// What one poll did.
#[derive(Debug, Default)]
pub struct Polled {
    /// Lines read and decoded.
    pub lines: u64,
    /// Bad lines: (line number, why).
    pub rejected: Vec<(u64, String)>,
}

impl Tail {
    /// Follows `path`, resuming at `resume` when it is the same file.
    pub fn new(
        path: PathBuf,
        format: Option<Format>,
        limits: Limits,
        resume: Option<Offset>,
    ) -> Tail {
        let acked = resume.unwrap_or(Offset {
            id: (0, 0),
            offset: 0,
            line: 1,
        });
        Tail {
            path,
            file: None,
            lines: Lines::at(acked.offset, acked.line),
            read_at: acked.offset,
            acked,
            feed: None,
            format,
            limits,
            unknown: false,
            buf: vec![0; 1 << 20],
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads what was appended since the last poll and sends it. An error means the sink is
    /// away: nothing since the last acknowledged batch counts, and the next poll tries again.
    pub async fn poll(&mut self, sink: &Sink, state: &mut State) -> Result<Polled, SendError> {
        let mut polled = Polled::default();
        let result = self.poll_inner(sink, state, &mut polled).await;
        if result.is_err() {
            self.rewind();
        }
        result.map(|()| polled)
    }

    async fn poll_inner(
        &mut self,
        sink: &Sink,
        state: &mut State,
        polled: &mut Polled,
    ) -> Result<(), SendError> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) if m.is_file() => Some(m),
            _ => None,
        };
        let now = meta.as_ref().map(identity);
        match (&self.file, now) {
            // Rotated or removed: what the old file still holds comes first, then its end is
            // its last line.
            (Some((_, id)), found) if found != Some(*id) => {
                self.read(sink, state, polled, None).await?;
                let feed = self.feed.as_mut();
                if let Some(feed) = feed {
                    self.lines.finish(|line| feed.line(line));
                }
                self.send(sink, state, polled).await?;
                self.file = None;
                self.restart(0, 1);
            }
            _ => {}
        }
        let Some(meta) = meta else { return Ok(()) };
        if self.file.is_none() {
            let id = identity(&meta);
            let Ok(mut file) = File::open(&self.path) else {
                return Ok(());
            };
            // Resume only in the very file read before, and only if it did not shrink.
            if self.acked.id != id || meta.len() < self.acked.offset {
                self.restart(0, 1);
            }
            self.acked.id = id;
            file.seek(SeekFrom::Start(self.read_at))
                .map_err(|e| SendError::Unavailable(e.to_string()))?;
            self.file = Some((file, id));
        }
        if meta.len() < self.read_at {
            tracing::warn!(file = %self.path.display(), "the file was truncated; reading it again from its start");
            self.restart(0, 1);
            if let Some((f, _)) = &mut self.file {
                f.seek(SeekFrom::Start(0))
                    .map_err(|e| SendError::Unavailable(e.to_string()))?;
            }
        }
        if meta.len() > self.read_at {
            self.read(sink, state, polled, Some(PER_POLL)).await?;
        }
        Ok(())
    }

    /// Reads from the open file up to `limit` bytes (or to its end), sending as batches fill.
    async fn read(
        &mut self,
        sink: &Sink,
        state: &mut State,
        polled: &mut Polled,
        limit: Option<usize>,
    ) -> Result<(), SendError> {
        if self.feed.is_none() && !self.start_feed() {
            return Ok(());
        }
        let mut budget = limit.unwrap_or(usize::MAX);
        while budget > 0 {
            let Some((file, _)) = &mut self.file else {
                break;
            };
            let n = match file.read(&mut self.buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            budget = budget.saturating_sub(n);
            self.read_at += n as u64;
            let feed = self.feed.as_mut().expect("started above");
            self.lines.push(&self.buf[..n], |line| feed.line(line));
            if feed.full() {
                self.send(sink, state, polled).await?;
            }
        }
        self.send(sink, state, polled).await
    }

    /// Sends what the feed holds and records the lines as stored.
    async fn send(
        &mut self,
        sink: &Sink,
        state: &mut State,
        polled: &mut Polled,
    ) -> Result<(), SendError> {
        let Some(feed) = &mut self.feed else {
            return Ok(());
        };
        feed.flush(sink).await?;
        polled.lines += std::mem::take(&mut feed.report.lines);
        polled.rejected.append(&mut feed.report.rejections);
        self.acked = Offset {
            id: self.acked.id,
            offset: self.lines.consumed(),
            line: self.lines.next_line(),
        };
        if let Err(e) = state.set(&self.path, self.acked) {
            tracing::warn!("{e}");
        }
        Ok(())
    }

    /// Tells the file's format from its start; false while it cannot yet.
    fn start_feed(&mut self) -> bool {
        if self.unknown {
            return false;
        }
        let format = match self.format {
            Some(f) => f,
            None => {
                let mut head = Vec::new();
                let read = File::open(&self.path).and_then(|f| f.take(HEAD).read_to_end(&mut head));
                match (read, detect(&head)) {
                    (Ok(_), Some(f)) => f,
                    // A first line still being written says nothing yet.
                    (Ok(_), None) if !head.contains(&b'\n') => return false,
                    _ => {
                        tracing::warn!(file = %self.path.display(), "cannot tell the format of the file from its first line; skipping it (name the format with --format)");
                        self.unknown = true;
                        return false;
                    }
                }
            }
        };
        if !format.is_lines() {
            tracing::warn!(file = %self.path.display(), "OTLP protobuf files are imported, not watched; skipping it");
            self.unknown = true;
            return false;
        }
        self.feed = Some(Feed::new(format, self.limits));
        true
    }

    /// Starts over at `offset`, line `line`, forgetting anything unsent.
    fn restart(&mut self, offset: u64, line: u64) {
        self.lines = Lines::at(offset, line);
        self.read_at = offset;
        self.acked.offset = offset;
        self.acked.line = line;
        if let Some(f) = &self.feed {
            self.feed = Some(Feed::new(f.format(), self.limits));
        }
    }

    /// Goes back to the last acknowledged line after a failed send.
    fn rewind(&mut self) {
        let (offset, line) = (self.acked.offset, self.acked.line);
        self.restart(offset, line);
        if let Some((f, _)) = &mut self.file
            && f.seek(SeekFrom::Start(offset)).is_err()
        {
            self.file = None;
        }
    }
}

#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

#[cfg(not(unix))]
fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    // No inode: the creation time tells a rotated file from its successor.
    let created = m
        .created()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    (0, created)
}
