//! Lines to batches to a sink, for import and watch alike: each line is decoded alone (a bad
//! one is recorded with its number and skipped), native messages of many lines are joined
//! into one store batch (one commit), and OTLP requests go one by one, as their exporter sent
//! them.

use super::format::{Batch, Format, decode_line};
use super::lines::Line;
use super::sink::{SendError, Sink};
use flightdeck_model::{Limits, Message};

/// Native messages gathered before they are sent as one batch.
const BATCH_MESSAGES: usize = 2_000;
/// Bytes of native lines gathered before they are sent, well under a server's default body
/// limit (16 MiB) when they go over HTTP.
const BATCH_BYTES: usize = 4 << 20;
/// Rejected lines whose reasons are kept (all are counted).
const KEPT_REJECTIONS: usize = 100;

/// What a file gave, so far.
#[derive(Debug, Default)]
pub struct Report {
    /// Non-empty lines (or protobuf records) read.
    pub lines: u64,
    /// Messages or OTLP items stored.
    pub stored: u64,
    /// Spans among them.
    pub spans: u64,
    /// Lines refused whole.
    pub rejected_lines: u64,
    /// The first rejected lines: (line number, why).
    pub rejections: Vec<(u64, String)>,
    /// Items a receiver refused inside lines it otherwise took (OTLP partial success).
    pub refused_items: i64,
    /// What the receiver said of them, the first time.
    pub refused_message: Option<String>,
}

impl Report {
    /// Adds what another part of the same file gave.
    pub fn merge(&mut self, other: Report) {
        self.lines += other.lines;
        self.stored += other.stored;
        self.spans += other.spans;
        self.rejected_lines += other.rejected_lines;
        let room = KEPT_REJECTIONS.saturating_sub(self.rejections.len());
        self.rejections
            .extend(other.rejections.into_iter().take(room));
        self.refused_items += other.refused_items;
        if self.refused_message.is_none() {
            self.refused_message = other.refused_message;
        }
    }

    fn reject(&mut self, line: u64, why: String) {
        self.rejected_lines += 1;
        if self.rejections.len() < KEPT_REJECTIONS {
            self.rejections.push((line, why));
        }
    }
}

/// The decoder and batcher of one file.
pub struct Feed {
    format: Format,
    limits: Limits,
    pending: Vec<Message>,
    /// The bytes of the lines `pending` came from.
    pending_bytes: usize,
    requests: Vec<(u64, Batch)>,
    pub report: Report,
}

impl Feed {
    pub fn new(format: Format, limits: Limits) -> Feed {
        Feed {
            format,
            limits,
            pending: Vec::new(),
            pending_bytes: 0,
            requests: Vec::new(),
            report: Report::default(),
        }
    }

    /// The file's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Decodes one line; blank lines are skipped.
    pub fn line(&mut self, line: Line<'_>) {
        if line.bytes.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.report.lines += 1;
        let decoded = std::str::from_utf8(line.bytes)
            .map_err(|_| "the line is not UTF-8 text".to_owned())
            .and_then(|text| decode_line(self.format, text, &self.limits));
        match decoded {
            Ok(b) => {
                self.pending_bytes += line.bytes.len();
                self.batch(line.number, b)
            }
            Err(why) => self.report.reject(line.number, why),
        }
    }

    /// Takes a decoded batch of line (or record) `number`.
    pub fn batch(&mut self, number: u64, batch: Batch) {
        match batch {
            Batch::Native(ms) => self.pending.extend(ms),
            other => self.requests.push((number, other)),
        }
    }

    /// Decodes a line that failed before decoding (a protobuf record, say).
    pub fn reject(&mut self, number: u64, why: String) {
        self.report.lines += 1;
        self.report.reject(number, why);
    }

    /// Whether enough is gathered to send.
    pub fn full(&self) -> bool {
        self.pending.len() >= BATCH_MESSAGES
            || self.pending_bytes >= BATCH_BYTES
            || !self.requests.is_empty()
    }

    /// Sends what is gathered. An error (the sink refused a batch or is away) leaves nothing
    /// of it stored: the caller stops or retries from its last acknowledged offset.
    pub async fn flush(&mut self, sink: &Sink) -> Result<(), SendError> {
        if !self.pending.is_empty() {
            self.pending_bytes = 0;
            let batch = Batch::Native(std::mem::take(&mut self.pending));
            let (n, spans) = (count(&batch), batch.spans());
            sink.send(batch).await?;
            self.report.stored += n;
            self.report.spans += spans as u64;
        }
        for (number, batch) in std::mem::take(&mut self.requests) {
            let (n, spans) = (count(&batch), batch.spans());
            match sink.send(batch).await {
                Ok(sent) => {
                    self.report.stored += n.saturating_sub(sent.rejected as u64);
                    self.report.spans += (spans as u64).saturating_sub(sent.rejected as u64);
                    if sent.rejected > 0 {
                        self.report.refused_items += sent.rejected;
                        self.report
                            .refused_message
                            .get_or_insert_with(|| format!("line {number}: {}", sent.message));
                    }
                }
                // A request refused whole is the line's fault (it holds nothing storable).
                Err(SendError::Refused(why)) => self.report.reject(number, why),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

fn count(batch: &Batch) -> u64 {
    match batch {
        Batch::Native(ms) => ms.len() as u64,
        Batch::Traces(_) => batch.spans() as u64,
        Batch::Logs(r) => r
            .resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .map(|sl| sl.log_records.len() as u64)
            .sum(),
    }
}
