//! Turns what passes through the proxy into LLM spans, off the request path.
//!
//! The request path only hands cheap records (the request body, the status, each response
//! chunk as a refcounted `Bytes`) to a bounded queue with `try_send`: it never waits on
//! recording. One task reads the queue, parses requests and responses, streams output
//! chunks into the span as `span.update`s, and appends to the store in batches without
//! waiting for each commit (a few appends in flight, so the writer's group commit takes
//! them together). If the queue is full the record is dropped, counted where a user looks
//! (the refusals of `GET /api/v1/refusals` and the page), and the call still goes through.
//!
//! Beside the span, each call's exact exchange (`exchange.rs`: request and response bytes,
//! chunk boundaries and timing) is kept and stored with `Store::write_exchanges` in the same
//! background batches, for replays and the playground.

use super::api::{self, Endpoint, Stream};
use super::attribution::{Attribution, ClientSessions, Resolved};
use super::exchange::Recording;
use super::response_id;
use super::sse::{self, EventSplitter};
use crate::calls::{Calls, Filed, Source};
use crate::refusals::{self, Refusal, Refusals};
use bytes::Bytes;
use flightdeck_model::message::{
    SessionEnd, SessionOutcome, SessionStart, SpanEnd, SpanMove, SpanStart, SpanUpdate,
};
use flightdeck_model::replay::Exchange;
use flightdeck_model::{Message, SpanKind, SpanOutcome, Timestamp};
use flightdeck_store::Store;
use serde_json::value::{RawValue, to_raw_value};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};

/// Records waiting for the recorder before new ones are dropped.
const QUEUE: usize = 65_536;
/// Bytes of request bodies and response chunks waiting for the recorder before new records
/// are dropped: what bounds the proxy's memory when recording falls behind.
const QUEUED_BYTES: usize = 64 * 1024 * 1024;
/// Messages gathered before the recorder writes them to the store.
const BATCH: usize = 512;
/// The longest a recorded message waits to be written.
const LINGER: Duration = Duration::from_millis(10);
/// Batches handed to the store and not yet committed; the recorder waits for one to
/// commit before it hands over more.
const IN_FLIGHT: u32 = 4;
/// Bodies kept for recording are cut at this size (the call itself is not).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// What the request path tells the recorder.
pub enum Record {
    Begin(Box<Begin>),
    Status {
        call: u64,
        status: u16,
        content_type: Option<String>,
    },
    /// A chunk from upstream (`bytes`) and, when the client got something else, what it got.
    Chunk {
        call: u64,
        bytes: Bytes,
        sent: Option<Bytes>,
        at: Instant,
    },
    End {
        call: u64,
        failure: Option<String>,
    },
    /// Store everything gathered, then stop (at shutdown).
    Close(tokio::sync::oneshot::Sender<()>),
}

impl Record {
    /// The body bytes it holds (what it costs in memory while queued).
    fn body_bytes(&self) -> usize {
        match self {
            Record::Begin(b) => b.request.len(),
            Record::Chunk { bytes, sent, .. } => bytes.len() + sent.as_ref().map_or(0, Bytes::len),
            _ => 0,
        }
    }
}

/// A call begins.
pub struct Begin {
    pub call: u64,
    pub endpoint: Endpoint,
    pub upstream: String,
    pub attribution: Attribution,
    pub request: Bytes,
    pub at: Timestamp,
    /// The path under the upstream.
    pub path: String,
    /// When the request was read (chunk times are counted from it).
    pub started: Instant,
    /// Answered from a replay's recording, not by the upstream: nothing was spent.
    pub served: bool,
    /// Told where the call is filed, for a review gate that may hold its answer.
    pub placed: Option<tokio::sync::oneshot::Sender<Placed>>,
    /// Set for a call Flightdeck made itself (`direct`): its span id, name and attributes.
    pub own: Option<Box<OwnSpan>>,
}

/// Where a call is filed: its session and its LLM span.
#[derive(Clone, Debug)]
pub struct Placed {
    pub session: String,
    pub span: String,
}

/// What a call Flightdeck made itself says about its span.
pub struct OwnSpan {
    pub span_id: String,
    pub name: String,
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// The request path's handle on the recorder.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Record>,
    /// Body bytes in the queue (added by `send`, taken off by the task).
    queued: Arc<AtomicUsize>,
    lost: Arc<AtomicU64>,
    next_call: Arc<AtomicU64>,
    refusals: Arc<Refusals>,
}

impl Recorder {
    /// Starts the recorder task, writing into `store`.
    pub fn start(
        store: Arc<dyn Store>,
        session_idle: Duration,
        refusals: Arc<Refusals>,
        calls: Arc<Calls>,
    ) -> Recorder {
        Self::start_with_queue(store, session_idle, refusals, calls, QUEUE)
    }

    fn start_with_queue(
        store: Arc<dyn Store>,
        session_idle: Duration,
        refusals: Arc<Refusals>,
        calls: Arc<Calls>,
        queue: usize,
    ) -> Recorder {
        let (tx, rx) = mpsc::channel(queue);
        let lost = Arc::new(AtomicU64::new(0));
        let queued = Arc::new(AtomicUsize::new(0));
        let task = Task {
            queued: Arc::clone(&queued),
            store,
            joins: calls,
            idle_ns: session_idle.as_nanos() as i64,
            calls: HashMap::new(),
            clients: ClientSessions::default(),
            out: Vec::new(),
            exchanges: Vec::new(),
            lost: Arc::clone(&lost),
            in_flight: Arc::new(Semaphore::new(IN_FLIGHT as usize)),
            refusals: Arc::clone(&refusals),
        };
        tokio::spawn(task.run(rx));
        Recorder {
            tx,
            queued,
            lost,
            next_call: Arc::new(AtomicU64::new(1)),
            refusals,
        }
    }

    /// A new call id.
    pub fn call_id(&self) -> u64 {
        self.next_call.fetch_add(1, Ordering::Relaxed)
    }

    /// Hands a record over without waiting; counts it as lost if the queue is full.
    pub fn send(&self, record: Record) {
        let size = record.body_bytes();
        if self.queued.fetch_add(size, Ordering::Relaxed) + size > QUEUED_BYTES {
            self.queued.fetch_sub(size, Ordering::Relaxed);
            self.lost.fetch_add(1, Ordering::Relaxed);
            lost(
                &self.refusals,
                1,
                "recording fell behind: its queue held too many bytes",
            );
            return;
        }
        if self.tx.try_send(record).is_err() {
            self.queued.fetch_sub(size, Ordering::Relaxed);
            self.lost.fetch_add(1, Ordering::Relaxed);
            lost(
                &self.refusals,
                1,
                "recording fell behind: its queue was full",
            );
        }
    }

    /// Stores what the recorder holds and stops it; waits for that.
    pub async fn close(&self) {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.tx.send(Record::Close(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// Calls to recorded endpoints begun so far.
    pub fn calls(&self) -> u64 {
        self.next_call.load(Ordering::Relaxed) - 1
    }

    /// Records dropped so far.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

struct Call {
    session: String,
    span: String,
    endpoint: Endpoint,
    status: Option<u16>,
    streamed: bool,
    stream: Stream,
    splitter: EventSplitter,
    body: Vec<u8>,
    seq: u64,
    pending_delta: String,
    last_activity: Timestamp,
    /// The provider's id of the response, once read: joins an OTel span of the same call.
    response_id: Option<String>,
    /// The request as recorded, to restate it in an OTel span the call joins.
    input: Option<Box<RawValue>>,
    recording: Recording,
    served: bool,
}

struct Task {
    store: Arc<dyn Store>,
    queued: Arc<AtomicUsize>,
    /// Calls OTel reported too, by response id.
    joins: Arc<Calls>,
    idle_ns: i64,
    calls: HashMap<u64, Call>,
    clients: ClientSessions,
    out: Vec<Message>,
    exchanges: Vec<Exchange>,
    lost: Arc<AtomicU64>,
    /// Permits for batches handed to the store and not yet committed.
    in_flight: Arc<Semaphore>,
    refusals: Arc<Refusals>,
}

/// Tells the page and the log that `n` records of proxied calls were not kept.
fn lost(refusals: &Refusals, n: u64, why: &str) {
    refusals.record(Refusal {
        source: refusals::Source::Proxy,
        client: "the proxy's recorder",
        reason: why,
        unit: "records",
        count: n,
        example: "calls went through unchanged, but their spans miss what was not recorded",
    });
}

fn raw(v: &impl serde::Serialize) -> Option<Box<RawValue>> {
    to_raw_value(v).ok()
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Record>) {
        let mut tick = tokio::time::interval(LINGER);
        let mut sweeps = 0u32;
        loop {
            tokio::select! {
                record = rx.recv() => match record {
                    Some(r) => {
                        if let Some(done) = self.take(r) {
                            self.flush().await;
                            self.committed().await;
                            let _ = done.send(());
                            return;
                        }
                        if self.out.len() >= BATCH {
                            self.flush().await;
                        }
                    }
                    None => {
                        self.flush().await;
                        self.committed().await;
                        return;
                    }
                },
                _ = tick.tick() => {
                    sweeps = sweeps.wrapping_add(1);
                    if sweeps.is_multiple_of(100) {
                        self.sweep();
                    }
                    self.flush().await;
                }
            }
        }
    }

    /// Takes one record in; returns the waiting closer when the record asks to close.
    fn take(&mut self, record: Record) -> Option<tokio::sync::oneshot::Sender<()>> {
        self.queued
            .fetch_sub(record.body_bytes(), Ordering::Relaxed);
        match record {
            Record::Begin(b) => self.begin(*b),
            Record::Status {
                call,
                status,
                content_type,
            } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.status = Some(status);
                    c.recording.content_type(content_type);
                }
            }
            Record::Chunk {
                call,
                bytes,
                sent,
                at,
            } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.last_activity = Timestamp::now();
                    c.recording.chunk(sent.as_ref().unwrap_or(&bytes), at);
                    let ok = c.status.is_some_and(|s| s < 400);
                    if c.streamed && ok {
                        for event in c.splitter.push(&bytes) {
                            let Some(data) = sse::data(&event) else {
                                continue;
                            };
                            if c.response_id.is_none() {
                                c.response_id = response_id::read(&data);
                            }
                            if let Some(delta) = c.stream.event(c.endpoint, &data) {
                                c.pending_delta.push_str(&delta);
                            }
                        }
                    } else if c.body.len() < MAX_BODY {
                        c.body
                            .extend_from_slice(&bytes[..bytes.len().min(MAX_BODY - c.body.len())]);
                    }
                }
            }
            Record::End { call, failure } => {
                if let Some(c) = self.calls.remove(&call) {
                    self.end(c, failure);
                }
            }
            Record::Close(done) => return Some(done),
        }
        None
    }

    fn begin(&mut self, b: Begin) {
        let at = b.at;
        let trace = b.attribution.trace.as_ref();
        let session = match b.attribution.session.clone() {
            Some(s) => {
                if !b.attribution.tags.is_empty() {
                    self.out.push(Message::SessionStart(SessionStart {
                        session_id: s.clone(),
                        name: None,
                        started_at: Some(at),
                        tags: b.attribution.tags.clone(),
                        metadata: None,
                        budget: None,
                    }));
                }
                s
            }
            // A call made in a trace is filed with the trace (as OTLP files it first: under the
            // trace id, which the store re-files once the trace names its session).
            None if trace.is_some() => trace.map(|t| t.trace_id.clone()).unwrap_or_default(),
            None => match self
                .clients
                .resolve(&b.attribution.client, at, self.idle_ns)
            {
                Resolved::Existing(s) => s,
                Resolved::New(s) => {
                    let mut tags = vec!["proxy".to_owned()];
                    tags.extend(b.attribution.tags.iter().cloned());
                    self.out.push(Message::SessionStart(SessionStart {
                        session_id: s.clone(),
                        name: Some(format!("proxy: {}", b.attribution.client)),
                        started_at: Some(at),
                        tags,
                        metadata: None,
                        budget: None,
                    }));
                    s
                }
            },
        };
        let (span, name, mut attributes) = match b.own {
            Some(own) => (own.span_id, own.name, own.attributes),
            None => (
                uuid::Uuid::new_v4().to_string(),
                b.endpoint.span_name().to_owned(),
                serde_json::Map::new(),
            ),
        };
        if let Some(placed) = b.placed {
            let _ = placed.send(Placed {
                session: session.clone(),
                span: span.clone(),
            });
        }
        let request = api::read_request(b.endpoint, &b.request);
        attributes.insert("proxy.upstream".into(), b.upstream.clone().into());
        if b.served {
            attributes.insert("replay.served".into(), true.into());
        }
        if request.is_none() {
            attributes.insert("proxy.request_unreadable".into(), true.into());
        }
        let (model, input, params, streamed) = match request {
            Some(r) => (r.model, r.input, Some(r.params), r.stream),
            None => (None, None, None, false),
        };
        let recorded_input = input.as_ref().and_then(raw);
        let recording = Recording::new(
            b.upstream.clone(),
            b.path,
            at,
            b.started,
            b.request,
            MAX_BODY,
        );
        self.out.push(Message::SpanStart(SpanStart {
            session_id: session.clone(),
            span_id: span.clone(),
            trace_id: trace.map(|t| t.trace_id.clone()),
            parent_id: b
                .attribution
                .parent
                .clone()
                .or_else(|| trace.map(|t| t.parent_id.clone())),
            kind: SpanKind::Llm,
            name,
            agent: b.attribution.agent.clone(),
            model,
            provider: Some(b.upstream),
            started_at: Some(at),
            input: recorded_input.clone(),
            params: params.as_ref().filter(|p| !p.is_empty()).and_then(raw),
            attributes: Some(attributes),
            scores: None,
        }));
        self.calls.insert(
            b.call,
            Call {
                session,
                span,
                endpoint: b.endpoint,
                status: None,
                streamed,
                stream: Stream::default(),
                splitter: EventSplitter::default(),
                body: Vec::new(),
                seq: 0,
                pending_delta: String::new(),
                last_activity: at,
                response_id: None,
                input: recorded_input,
                recording,
                served: b.served,
            },
        );
    }

    fn end(&mut self, mut c: Call, failure: Option<String>) {
        push_delta(&mut self.out, &mut c);
        let status = c.status.unwrap_or(0);
        let (output, usage, model, api_error) = if c.streamed && status < 400 && status > 0 {
            if let Some(rest) = c.splitter.rest()
                && let Some(d) = sse::data(&rest)
            {
                c.stream.event(c.endpoint, &d);
            }
            let out = c.stream.output(c.endpoint);
            (
                Some(out),
                c.stream.usage,
                c.stream.model.take(),
                c.stream.error.take(),
            )
        } else {
            let r = api::read_response(c.endpoint, &c.body);
            (r.output, r.usage, r.model, r.error)
        };
        let error = match (&failure, status, &api_error) {
            (Some(f), _, _) => Some(f.clone()),
            (None, s, e) if s >= 400 => Some(format!(
                "upstream answered {s}{}",
                e.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
            )),
            (None, _, Some(e)) => Some(e.clone()),
            _ => None,
        };
        if !c.streamed {
            c.response_id = std::str::from_utf8(&c.body)
                .ok()
                .and_then(response_id::read);
        }
        self.join(&mut c);
        // A call answered from a recording spent nothing: its usage is the recording's.
        let usage = usage.filter(|_| !c.served);
        let mut attributes = serde_json::Map::new();
        if status > 0 {
            attributes.insert("http.status_code".into(), status.into());
        }
        if let Some(m) = model {
            attributes.insert("gen_ai.response.model".into(), m.into());
        }
        if status > 0 {
            self.exchanges.push(
                c.recording
                    .finish(c.session.clone(), c.span.clone(), status),
            );
        }
        self.out.push(Message::SpanEnd(SpanEnd {
            session_id: c.session,
            span_id: c.span,
            ended_at: Some(Timestamp::now()),
            status: if error.is_some() {
                SpanOutcome::Error
            } else {
                SpanOutcome::Ok
            },
            output: output.as_ref().and_then(raw),
            usage,
            cost_usd: c.served.then_some(0.0),
            error,
            attributes: Some(attributes),
            scores: None,
        }));
    }

    /// When an OTel span reported this call first, moves the record into it (`span.move`;
    /// what follows about the record lands there too) and restates the exact request over the
    /// span's own; else leaves the record for a later span to join.
    fn join(&mut self, c: &mut Call) {
        let Some(id) = &c.response_id else {
            return;
        };
        let mine = Filed {
            source: Source::Proxy,
            session: c.session.clone(),
            span: c.span.clone(),
        };
        let Some(traced) = self.joins.join(id, mine) else {
            return;
        };
        self.out.push(Message::SpanMove(SpanMove {
            session_id: c.session.clone(),
            span_id: c.span.clone(),
            into: traced.session,
            into_span: traced.span,
        }));
        self.out.push(Message::SpanUpdate(SpanUpdate {
            session_id: c.session.clone(),
            span_id: c.span.clone(),
            seq: None,
            at: None,
            output_delta: None,
            input: c.input.take(),
            output: None,
            usage: None,
            attributes: None,
            scores: None,
        }));
    }

    /// Ends calls that went silent (their end was lost), and sessions of quiet clients.
    fn sweep(&mut self) {
        let now = Timestamp::now();
        let stale: Vec<u64> = self
            .calls
            .iter()
            .filter(|(_, c)| now.0 - c.last_activity.0 > self.idle_ns)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(c) = self.calls.remove(&id) {
                self.end(
                    c,
                    Some("recording incomplete: the end of the call was not seen".into()),
                );
            }
        }
        for session in self.clients.expire(now, self.idle_ns) {
            self.out.push(Message::SessionEnd(SessionEnd {
                session_id: session,
                ended_at: Some(now),
                status: SessionOutcome::Completed,
                error: None,
            }));
        }
    }

    async fn flush(&mut self) {
        for c in self.calls.values_mut() {
            push_delta(&mut self.out, c);
        }
        if self.out.is_empty() && self.exchanges.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.out);
        let exchanges = std::mem::take(&mut self.exchanges);
        let n = batch.len() as u64;
        let Ok(permit) = Arc::clone(&self.in_flight).acquire_owned().await else {
            return;
        };
        let (store, lost_count, refusals) = (
            Arc::clone(&self.store),
            Arc::clone(&self.lost),
            Arc::clone(&self.refusals),
        );
        tokio::spawn(async move {
            if let Err(e) = store.append(batch).await {
                lost_count.fetch_add(n, Ordering::Relaxed);
                tracing::warn!(error = %e, "proxy recording could not be stored");
                lost(&refusals, n, "the store refused the recorded messages");
            }
            let calls = exchanges.len() as u64;
            if let Err(e) = store.write_exchanges(exchanges).await {
                lost_count.fetch_add(calls, Ordering::Relaxed);
                tracing::warn!(error = %e, "proxied exchanges could not be stored");
                lost(&refusals, calls, "the store refused the recorded exchanges");
            }
            drop(permit);
        });
    }

    /// Waits until every batch handed to the store is committed.
    async fn committed(&self) {
        let _all = self.in_flight.acquire_many(IN_FLIGHT).await;
    }
}

/// Moves a call's streamed text gathered since the last flush into one `span.update`.
fn push_delta(out: &mut Vec<Message>, c: &mut Call) {
    if c.pending_delta.is_empty() {
        return;
    }
    out.push(Message::SpanUpdate(SpanUpdate {
        session_id: c.session.clone(),
        span_id: c.span.clone(),
        seq: Some(c.seq),
        at: Some(Timestamp::now()),
        output_delta: Some(std::mem::take(&mut c.pending_delta)),
        input: None,
        output: None,
        usage: c.stream.usage,
        attributes: None,
        scores: None,
    }));
    c.seq += 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use flightdeck_store_sqlite::{SqliteOptions, SqliteStore};

    /// Records beyond a full queue are lost, counted, and shown among the refusals.
    #[tokio::test(flavor = "current_thread")]
    async fn a_full_queue_loses_records_where_a_user_looks() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(SqliteOptions::new(dir.path().join("r.db"))).unwrap());
        let refusals = Arc::new(Refusals::default());
        let r = Recorder::start_with_queue(
            store,
            Duration::from_secs(60),
            Arc::clone(&refusals),
            Arc::default(),
            4,
        );
        // The recorder task cannot run between these sends: the queue fills.
        for call in 0..10 {
            r.send(Record::End {
                call,
                failure: None,
            });
        }
        assert_eq!(r.lost(), 6);
        let s = refusals.summary();
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].source, s[0].unit, s[0].last_hour),
            (refusals::Source::Proxy, "records", 6)
        );
        r.close().await;
    }

    /// Bodies past the byte bound are lost too, however few the records.
    #[tokio::test(flavor = "current_thread")]
    async fn queued_bytes_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(SqliteOptions::new(dir.path().join("r.db"))).unwrap());
        let r = Recorder::start(
            store,
            Duration::from_secs(60),
            Arc::new(Refusals::default()),
            Arc::default(),
        );
        let chunk = Bytes::from(vec![b'x'; QUEUED_BYTES / 3 + 1]);
        for call in 0..4 {
            r.send(Record::Chunk {
                call,
                bytes: chunk.clone(),
                sent: None,
                at: Instant::now(),
            });
        }
        assert_eq!(
            r.lost(),
            2,
            "the third and fourth chunks would pass the bound"
        );
        r.close().await;
        assert_eq!(
            r.queued.load(Ordering::Relaxed),
            0,
            "what was taken is off the count"
        );
    }
}
