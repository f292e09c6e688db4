//! The Store contract, exercised through the trait: durability across reopen, order- and
//! repetition-independence, totals, filters and paging, the feed and exact snapshots, moves,
//! reviews' neighbours (exchanges, replays), metrics and logs.
//!
//! Each test is written once, over a [`Backend`] (a fresh database, opened and reopened), and
//! run against every store: `sqlite::*` and `postgres::*`. The PostgreSQL tests use a
//! throwaway cluster that the test process starts itself (`flightdeck-store-postgres`,
//! feature `testing`), or the server `FLIGHTDECK_TEST_POSTGRES` names; they never skip.
//! The suite lives here, beside the trait it checks, with both stores as dev-dependencies.

use flightdeck_model::message::Level;
use flightdeck_model::record::LogLine;
use flightdeck_model::{Limits, Message, SessionStatus, SpanStatus, Timestamp, decode_batch};
use flightdeck_store::{
    EventQuery, LogQuery, Maintenance, MetricQuery, SessionQuery, StatsScope, Store,
};
use flightdeck_store_postgres::{PostgresOptions, PostgresStore};
use flightdeck_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;

fn msgs(ndjson: &str) -> Vec<Message> {
    decode_batch(ndjson.as_bytes(), &Limits::default()).expect("valid test batch")
}

/// One kind of store under test: a fresh database, and the store opened on it (again and
/// again: a reopen sees what the last one committed).
trait Backend: Sized {
    type Store: Maintenance;
    async fn fresh() -> Self;
    async fn open(&self) -> Self::Store;
    /// How many compression dictionaries the database has stored.
    async fn dictionaries(&self) -> i64;
    /// How many stored span inputs name a dictionary.
    async fn dictionary_payloads(&self) -> i64;
}

struct Sqlite(tempfile::TempDir);

impl Sqlite {
    fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.0.path().join("fd.db")).unwrap()
    }
}

impl Backend for Sqlite {
    type Store = SqliteStore;
    async fn fresh() -> Self {
        Sqlite(tempfile::tempdir().unwrap())
    }
    async fn open(&self) -> SqliteStore {
        SqliteStore::open(SqliteOptions::new(self.0.path().join("fd.db"))).unwrap()
    }
    async fn dictionaries(&self) -> i64 {
        let sql = "SELECT count(*) FROM dictionaries";
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }
    async fn dictionary_payloads(&self) -> i64 {
        let sql = "SELECT count(*) FROM spans WHERE substr(input, 1, 1) = x'02'";
        self.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

struct Postgres(String);

impl Postgres {
    async fn count(&self, sql: &str) -> i64 {
        let (client, connection) = tokio_postgres::connect(&self.0, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client.query_one(sql, &[]).await.unwrap().get(0)
    }
}

impl Backend for Postgres {
    type Store = PostgresStore;
    async fn fresh() -> Self {
        Postgres(flightdeck_store_postgres::testing::fresh_database().await)
    }
    async fn open(&self) -> PostgresStore {
        PostgresStore::open(PostgresOptions::new(&self.0))
            .await
            .unwrap()
    }
    async fn dictionaries(&self) -> i64 {
        self.count("SELECT count(*) FROM dictionaries").await
    }
    async fn dictionary_payloads(&self) -> i64 {
        self.count("SELECT count(*) FROM spans WHERE get_byte(input, 0) = 2")
            .await
    }
}

/// One `#[tokio::test]` per contract test, for one backend.
macro_rules! contract {
    ($backend:ty: $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                super::$name::<$backend>().await
            }
        )*
    };
}

macro_rules! every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            contract!(super::Sqlite: $($name),*);
        }
        mod postgres {
            contract!(super::Postgres: $($name),*);
        }
    };
}

every_backend!(
    round_trip_of_every_message_type,
    any_order_and_any_repetition_give_the_same_result,
    what_was_acknowledged_survives_reopening,
    streamed_chunks_show_while_running,
    an_update_sets_payloads_without_touching_status_or_times,
    session_list_filters_and_pages,
    concurrent_writers_lose_and_double_nothing,
    retention_removes_old_ended_sessions_only,
    subscribers_get_commits_in_order_with_totals,
    snapshots_contain_exactly_the_commits_up_to_their_seq,
    payloads_compress_with_a_dictionary_trained_on_the_first_ones,
    two_databases_in_one_process_keep_their_own_dictionaries,
    a_call_without_a_price_makes_the_cost_unknown_not_zero,
    a_move_refiles_everything_as_if_it_had_been_filed_there,
    a_span_known_only_from_updates_is_not_listed_until_it_arrives,
    traced_sessions_end_when_quiet_and_a_later_span_reopens_them,
    a_span_move_makes_one_span_of_one_call_reported_twice,
    metrics_are_read_by_prefix_and_averaged_over_buckets,
    logs_of_every_session_are_filtered_paged_and_followed,
    live_agents_are_those_of_running_and_recently_seen_sessions,
    exchanges_and_replays_survive_reopening,
    old_metric_samples_roll_up_into_minute_means_and_the_oldest_go,
    running_spans_sorted_lists_and_filtered_figures,
);

/// A small session exercising every message type, in protocol order.
fn heist() -> Vec<String> {
    [
        r#"{"type":"session.start","session_id":"s1","name":"heist #4","started_at":"2026-11-20T10:00:00Z","tags":["demo"],"budget":{"cost_usd":1.0}}"#,
        r#"{"type":"agent.status","session_id":"s1","agent":"planner","status":"active","role":"lead","task":"plan","at":"2026-11-20T10:00:00.5Z"}"#,
        r#"{"type":"span.start","session_id":"s1","span_id":"root","kind":"agent","name":"planner","agent":"planner","started_at":"2026-11-20T10:00:00Z"}"#,
        r#"{"type":"span.start","session_id":"s1","span_id":"a1","parent_id":"root","kind":"llm","name":"decompose","agent":"planner","model":"gpt-4o","started_at":"2026-11-20T10:00:01Z","input":[{"role":"user","content":"plan the job"}]}"#,
        r#"{"type":"span.update","session_id":"s1","span_id":"a1","seq":0,"output_delta":"step 1"}"#,
        r#"{"type":"span.update","session_id":"s1","span_id":"a1","seq":1,"output_delta":" ...","usage":{"input_tokens":12,"output_tokens":2}}"#,
        r#"{"type":"span.end","session_id":"s1","span_id":"a1","ended_at":"2026-11-20T10:00:03Z","status":"ok","output":"step 1 ...","usage":{"input_tokens":12,"output_tokens":34}}"#,
        r#"{"type":"span","session_id":"s1","span_id":"t1","parent_id":"root","kind":"tool","name":"scan_cameras","agent":"hacker","started_at":"2026-11-20T10:00:04Z","ended_at":"2026-11-20T10:00:05Z","status":"error","error":"timeout","input":{"floor":2},"scores":{"risk":0.7}}"#,
        r#"{"type":"edge","session_id":"s1","kind":"delegation","from_agent":"planner","to_agent":"hacker","at":"2026-11-20T10:00:04Z"}"#,
        r#"{"type":"event","session_id":"s1","span_id":"a1","category":"decision","name":"plan_revision","message":"switch to plan B","at":"2026-11-20T10:00:06Z"}"#,
        r#"{"type":"event","session_id":"s1","level":"info","message":"crew assembled","at":"2026-11-20T10:00:00.1Z"}"#,
        r#"{"type":"metric","session_id":"s1","name":"queue.depth","value":3,"at":"2026-11-20T10:00:02Z","labels":{"queue":"jobs"}}"#,
        r#"{"type":"span.end","session_id":"s1","span_id":"root","ended_at":"2026-11-20T10:00:07Z"}"#,
        r#"{"type":"session.end","session_id":"s1","ended_at":"2026-11-20T10:00:08Z","status":"completed"}"#,
    ]
    .map(str::to_owned)
    .to_vec()
}

/// Everything a reader can see of session s1, as comparable JSON.
async fn observe(store: &dyn Store) -> serde_json::Value {
    let now = Timestamp::parse_rfc3339("2026-11-20T10:00:09Z").unwrap();
    let mut detail = Vec::new();
    for s in store.spans("s1").await.unwrap() {
        detail.push(serde_json::to_value(store.span("s1", &s.span_id).await.unwrap()).unwrap());
    }
    serde_json::json!({
        "session": store.session("s1").await.unwrap(),
        "spans": detail,
        "edges": store.edges("s1").await.unwrap(),
        "events": store.events("s1", EventQuery::default()).await.unwrap().items.iter()
            .map(|e| (e.event_id.clone(), e.message.clone())).collect::<Vec<_>>(),
        "agents": store.agents("s1", now).await.unwrap(),
        "llm": store.llm_stats(StatsScope { session_id: Some("s1".into()), ..Default::default() }).await.unwrap(),
        "tools": store.tool_stats(StatsScope { session_id: Some("s1".into()), ..Default::default() }).await.unwrap(),
    })
}

async fn round_trip_of_every_message_type<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    store.append(msgs(&heist().join("\n"))).await.unwrap();

    let s = store.session("s1").await.unwrap().unwrap().summary;
    assert_eq!(s.name.as_deref(), Some("heist #4"));
    assert_eq!(s.status, SessionStatus::Completed);
    assert_eq!(s.agents, vec!["hacker", "planner"]);
    assert_eq!(
        (
            s.totals.spans,
            s.totals.llm_calls,
            s.totals.tool_calls,
            s.totals.errors
        ),
        (3, 1, 1, 1)
    );
    assert_eq!((s.totals.input_tokens, s.totals.output_tokens), (12, 34));
    let expected_cost = (12.0 * 2.5 + 34.0 * 10.0) / 1e6;
    assert!(
        (s.totals.cost_usd - expected_cost).abs() < 1e-12,
        "priced: {}",
        s.totals.cost_usd
    );
    assert_eq!(s.duration_ms, 8000.0);

    let a1 = store.span("s1", "a1").await.unwrap().unwrap();
    assert_eq!(
        a1.input.unwrap().get(),
        r#"[{"role":"user","content":"plan the job"}]"#
    );
    assert_eq!(a1.output.unwrap().get(), r#""step 1 ...""#);
    assert_eq!(a1.summary.status, SpanStatus::Ok);
    assert_eq!(a1.summary.parent_id.as_deref(), Some("root"));
    let t1 = store.span("s1", "t1").await.unwrap().unwrap().summary;
    assert_eq!(t1.status, SpanStatus::Error);
    assert_eq!(t1.scores["risk"], 0.7);

    let edges = store.edges("s1").await.unwrap();
    assert_eq!(edges.len(), 1);
    let events = store
        .events("s1", EventQuery::default())
        .await
        .unwrap()
        .items;
    assert_eq!(
        events
            .iter()
            .map(|e| e.message.as_deref().unwrap())
            .collect::<Vec<_>>(),
        ["crew assembled", "switch to plan B"]
    );
    let decisions = store
        .events(
            "s1",
            EventQuery {
                category: Some("decision".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(decisions.items.len(), 1);

    let now = Timestamp::parse_rfc3339("2026-11-20T10:00:09Z").unwrap();
    let agents = store.agents("s1", now).await.unwrap();
    let planner = agents.iter().find(|a| a.agent == "planner").unwrap();
    assert_eq!(planner.role.as_deref(), Some("lead"));
    assert_eq!(planner.messages_sent, 1);
    assert_eq!(planner.totals.llm_calls, 1);
    let later = Timestamp::parse_rfc3339("2026-11-20T11:00:00Z").unwrap();
    let offline = store.agents("s1", later).await.unwrap();
    assert_eq!(
        offline
            .iter()
            .find(|a| a.agent == "planner")
            .unwrap()
            .status,
        Some(flightdeck_model::AgentState::Offline)
    );

    let llm = store
        .llm_stats(StatsScope {
            session_id: Some("s1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(llm[0].model, "gpt-4o");
    assert_eq!(llm[0].latency_p50_ms, Some(2000.0));
    let tools = store
        .tool_stats(StatsScope {
            session_id: Some("s1".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(tools[0].success_rate, Some(0.0));

    let metrics = store.metrics(Default::default()).await.unwrap();
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].labels["queue"], "jobs");

    let overview = store.overview(StatsScope::default()).await.unwrap();
    assert_eq!((overview.sessions, overview.completed), (1, 1));
    assert_eq!(overview.completion_rate, Some(1.0));
}

async fn any_order_and_any_repetition_give_the_same_result<B: Backend>() {
    let ordered_db = B::fresh().await;
    let ordered = ordered_db.open().await;
    ordered.append(msgs(&heist().join("\n"))).await.unwrap();
    let expected = observe(&ordered).await;

    // Reversed, one message per batch, every message twice, and shuffled in batches.
    let db = B::fresh().await;
    let store = db.open().await;
    for line in heist().iter().rev() {
        store.append(msgs(line)).await.unwrap();
        store.append(msgs(line)).await.unwrap();
    }
    assert_eq!(observe(&store).await, expected);

    let db = B::fresh().await;
    let store = db.open().await;
    let mut lines = heist();
    lines.rotate_left(5);
    let (a, b) = lines.split_at(7);
    store.append(msgs(&b.join("\n"))).await.unwrap();
    store.append(msgs(&a.join("\n"))).await.unwrap();
    store.append(msgs(&heist().join("\n"))).await.unwrap();
    assert_eq!(observe(&store).await, expected);
}

async fn what_was_acknowledged_survives_reopening<B: Backend>() {
    let db = B::fresh().await;
    {
        let store = db.open().await;
        store.append(msgs(&heist().join("\n"))).await.unwrap();
        store.close().await.unwrap();
        assert!(
            store.append(msgs(&heist()[0])).await.is_err(),
            "closed store refuses writes"
        );
    }
    let store = db.open().await;
    assert_eq!(store.spans("s1").await.unwrap().len(), 3);
    assert_eq!(
        store
            .session("s1")
            .await
            .unwrap()
            .unwrap()
            .summary
            .totals
            .spans,
        3
    );
}

async fn streamed_chunks_show_while_running<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    store.append(msgs(&heist()[..5].join("\n"))).await.unwrap();
    let running = store.span("s1", "a1").await.unwrap().unwrap();
    assert_eq!(running.summary.status, SpanStatus::Running);
    assert_eq!(running.output.unwrap().get(), r#""step 1""#);
    // A chunk sent again (client retry) and one out of order.
    store
        .append(msgs(&[heist()[5].clone(), heist()[4].clone()].join("\n")))
        .await
        .unwrap();
    let running = store.span("s1", "a1").await.unwrap().unwrap();
    assert_eq!(running.output.unwrap().get(), r#""step 1 ...""#);
    assert_eq!(running.summary.usage.unwrap().output_tokens, 2);
}

async fn an_update_sets_payloads_without_touching_status_or_times<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    let update = r#"{"type":"span.update","session_id":"s1","span_id":"t1","input":[{"role":"user","content":"hi"}],"output":{"role":"assistant","content":"hello"}}"#;
    let failed = r#"{"type":"span","session_id":"s1","span_id":"t1","kind":"llm","name":"chat","started_at":"2026-11-20T10:00:04Z","ended_at":"2026-11-20T10:00:05Z","status":"error","error":"timeout"}"#;
    // Before and after the span itself: the same stored span either way.
    for batches in [[update, failed], [failed, update]] {
        let db = B::fresh().await;
        let store = db.open().await;
        for b in batches {
            store.append(msgs(b)).await.unwrap();
        }
        let span = store.span("s1", "t1").await.unwrap().unwrap();
        assert_eq!(span.summary.status, SpanStatus::Error);
        assert_eq!(
            span.summary.started_at,
            Some(Timestamp::parse_rfc3339("2026-11-20T10:00:04Z").unwrap())
        );
        assert_eq!(
            span.input.unwrap().get(),
            r#"[{"role":"user","content":"hi"}]"#
        );
        assert_eq!(
            span.output.unwrap().get(),
            r#"{"role":"assistant","content":"hello"}"#
        );
    }
    // On a span not seen yet, it is running until its end arrives.
    store.append(msgs(update)).await.unwrap();
    let span = store.span("s1", "t1").await.unwrap().unwrap();
    assert_eq!(span.summary.status, SpanStatus::Running);
}

async fn session_list_filters_and_pages<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    let mut batch = String::new();
    for i in 0..25 {
        let status = if i % 5 == 0 { "failed" } else { "completed" };
        let agent = if i % 2 == 0 { "planner" } else { "coder" };
        let model = if i % 3 == 0 {
            "gpt-4o"
        } else {
            "claude-sonnet-4"
        };
        batch.push_str(&format!(
            r#"{{"type":"session.start","session_id":"s{i:02}","name":"run {i} of the vault job","started_at":{}}}
{{"type":"span","session_id":"s{i:02}","span_id":"x","kind":"llm","name":"think","agent":"{agent}","model":"{model}","started_at":{},"ended_at":{}}}
{{"type":"session.end","session_id":"s{i:02}","status":"{status}","ended_at":{}}}
"#,
            i * 1000, i * 1000, i * 1000 + 10, i * 1000 + 20
        ));
    }
    store.append(msgs(&batch)).await.unwrap();

    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .sessions(SessionQuery {
                limit: Some(10),
                cursor,
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|s| s.session_id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<String> = (0..25).rev().map(|i| format!("s{i:02}")).collect();
    assert_eq!(seen, expected, "newest first, every session exactly once");

    let count = |q: SessionQuery| {
        let store = &store;
        async move {
            store
                .sessions(SessionQuery {
                    limit: Some(500),
                    ..q
                })
                .await
                .unwrap()
                .items
                .len()
        }
    };
    assert_eq!(
        count(SessionQuery {
            status: Some(SessionStatus::Failed),
            ..Default::default()
        })
        .await,
        5
    );
    assert_eq!(
        count(SessionQuery {
            has_errors: Some(true),
            ..Default::default()
        })
        .await,
        5
    );
    assert_eq!(
        count(SessionQuery {
            agent: Some("coder".into()),
            ..Default::default()
        })
        .await,
        12
    );
    assert_eq!(
        count(SessionQuery {
            model: Some("gpt-4o".into()),
            ..Default::default()
        })
        .await,
        9
    );
    // Agent and model match part of a name, ignoring case.
    assert_eq!(
        count(SessionQuery {
            agent: Some("CODE".into()),
            ..Default::default()
        })
        .await,
        12
    );
    assert_eq!(
        count(SessionQuery {
            model: Some("sonnet".into()),
            ..Default::default()
        })
        .await,
        16
    );
    assert_eq!(
        count(SessionQuery {
            model: Some("gpt_4o".into()),
            ..Default::default()
        })
        .await,
        0,
        "an underscore is itself, not any character"
    );
    assert_eq!(
        count(SessionQuery {
            text: Some("RUN 1".into()),
            ..Default::default()
        })
        .await,
        11
    );
    assert_eq!(
        count(SessionQuery {
            text: Some("coder".into()),
            ..Default::default()
        })
        .await,
        12
    );
    assert_eq!(
        count(SessionQuery {
            text: Some("100%_".into()),
            ..Default::default()
        })
        .await,
        0
    );
    assert_eq!(
        count(SessionQuery {
            from: Some(Timestamp(5000)),
            to: Some(Timestamp(10_000)),
            ..Default::default()
        })
        .await,
        5
    );
    assert!(
        store
            .sessions(SessionQuery {
                cursor: Some("bogus".into()),
                ..Default::default()
            })
            .await
            .is_err()
    );
}

async fn concurrent_writers_lose_and_double_nothing<B: Backend>() {
    let db = B::fresh().await;
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let mut tasks = Vec::new();
    for w in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            for b in 0..20 {
                let mut batch = String::new();
                for i in 0..25 {
                    batch.push_str(&format!(
                        r#"{{"type":"span","session_id":"shared","span_id":"w{w}-b{b}-{i}","kind":"llm","name":"n","model":"gpt-4o","started_at":1,"ended_at":2,"usage":{{"input_tokens":1,"output_tokens":1}}}}
"#
                    ));
                }
                // Every batch twice, as a retrying client would.
                store.append(msgs(&batch)).await.unwrap();
                store.append(msgs(&batch)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let s = store.session("shared").await.unwrap().unwrap().summary;
    assert_eq!(s.totals.spans, 8 * 20 * 25);
    assert_eq!(s.totals.input_tokens, 8 * 20 * 25);
    assert_eq!(store.spans("shared").await.unwrap().len(), 8 * 20 * 25);
}

async fn retention_removes_old_ended_sessions_only<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    store
        .append(msgs(&[
            r#"{"type":"session.start","session_id":"old","started_at":1000}"#,
            r#"{"type":"span","session_id":"old","span_id":"x","kind":"tool","name":"t","started_at":1000,"ended_at":2000}"#,
            r#"{"type":"session.end","session_id":"old","ended_at":3000}"#,
            r#"{"type":"session.start","session_id":"old-but-running","started_at":1000}"#,
            r#"{"type":"session.start","session_id":"new","started_at":9000}"#,
            r#"{"type":"session.end","session_id":"new","ended_at":9500}"#,
        ].join("\n")))
        .await
        .unwrap();
    assert_eq!(store.retain(Timestamp(5000)).await.unwrap(), 1);
    assert!(store.session("old").await.unwrap().is_none());
    assert!(store.spans("old").await.unwrap().is_empty());
    assert!(store.session("old-but-running").await.unwrap().is_some());
    assert!(store.session("new").await.unwrap().is_some());
}

async fn subscribers_get_commits_in_order_with_totals<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    let mut feed = store.subscribe();
    for line in heist() {
        store.append(msgs(&line)).await.unwrap();
    }
    let mut last = 0;
    let mut types = Vec::new();
    let (mut edge_ids, mut event_ids) = (Vec::new(), Vec::new());
    for _ in 0..heist().len() {
        let c = feed.recv().await.unwrap();
        assert_eq!(c.seq, last + 1, "no gaps");
        last = c.seq;
        assert_eq!(c.sessions[0].session_id, "s1");
        types.extend(c.messages.iter().map(|m| m.type_name()));
        for m in &c.messages {
            match m {
                Message::Edge(e) => edge_ids.push(e.edge_id.clone().unwrap()),
                Message::Event(e) => event_ids.push(e.event_id.clone().unwrap()),
                _ => {}
            }
        }
    }
    assert_eq!(types.first(), Some(&"session.start"));
    assert_eq!(types.last(), Some(&"session.end"));
    assert_eq!(store.last_seq(), last);
    // Ids the client left out are carried on the feed as the store derived them.
    let stored: Vec<_> = store
        .edges("s1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.edge_id)
        .collect();
    assert_eq!(edge_ids, stored);
    let mut stored: Vec<_> = store
        .events("s1", EventQuery::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    stored.sort();
    event_ids.sort();
    assert_eq!(event_ids, stored);
}

async fn snapshots_contain_exactly_the_commits_up_to_their_seq<B: Backend>() {
    let db = B::fresh().await;
    let store = Arc::new(db.open().await);
    let mut feed = store.subscribe();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for i in 0..60 {
                    let batch = format!(
                        "{{\"type\":\"span.start\",\"session_id\":\"s1\",\"span_id\":\"w{w}-{i}\",\"kind\":\"tool\",\"name\":\"t\"}}\n\
                         {{\"type\":\"session.start\",\"session_id\":\"w{w}-{i}\"}}"
                    );
                    store.append(msgs(&batch)).await.unwrap();
                }
            })
        })
        .collect();
    let mut snapshots = Vec::new();
    while !writers.iter().all(|w| w.is_finished()) {
        let session = store
            .session_snapshot("s1", Timestamp::now())
            .await
            .unwrap();
        let overview = store
            .overview_snapshot(SessionQuery::default())
            .await
            .unwrap();
        snapshots.push((
            session.seq,
            session.spans.len(),
            overview.seq,
            overview.stats.sessions,
        ));
    }
    for w in writers {
        w.await.unwrap();
    }
    // Spans of s1 and sessions in all, after each commit.
    let (mut spans_after, mut sessions_after) = (vec![0usize], vec![0i64]);
    let mut sessions = std::collections::HashSet::new();
    while spans_after.len() as u64 <= store.last_seq() {
        let c = feed.recv().await.unwrap();
        assert_eq!(c.seq as usize, spans_after.len());
        let spans = c
            .messages
            .iter()
            .filter(|m| m.type_name() == "span.start")
            .count();
        spans_after.push(spans_after.last().unwrap() + spans);
        sessions.extend(c.sessions.iter().map(|s| s.session_id.clone()));
        sessions_after.push(sessions.len() as i64);
    }
    assert!(snapshots.len() > 2, "snapshots were taken while writing");
    let mid_write = snapshots
        .iter()
        .filter(|s| s.0 > 0 && s.0 < store.last_seq())
        .count();
    assert!(mid_write > 0, "some snapshot fell between commits");
    for (seq, spans, overview_seq, sessions) in snapshots {
        assert_eq!(
            spans, spans_after[seq as usize],
            "session snapshot at seq {seq}"
        );
        assert_eq!(
            sessions, sessions_after[overview_seq as usize],
            "overview at seq {overview_seq}"
        );
    }
}

/// An LLM span of ~2 KB of words from `words`: payloads a dictionary is trained on.
fn wordy_span(words: &[&str], i: usize) -> String {
    let text: Vec<&str> = (0..300)
        .map(|j| words[(i * 7 + j * 13) % words.len()])
        .collect();
    format!(
        r#"{{"type":"span","session_id":"d","span_id":"x{i}","kind":"llm","name":"chat","started_at":1,"ended_at":2,"input":[{{"role":"system","content":"You plan heists."}},{{"role":"user","content":"{} {i}"}}]}}"#,
        text.join(" ")
    )
}

const HEIST_WORDS: [&str; 10] = [
    "vault", "camera", "guard", "plan", "the", "crew", "door", "code", "alarm", "shift",
];

/// Writes spans `0..1500` (about 3 MB: more than a dictionary is trained from) and waits
/// until the dictionary is stored and in use.
async fn train_dictionary<B: Backend>(db: &B, store: &B::Store, words: &[&str]) {
    for chunk in (0..1500).collect::<Vec<_>>().chunks(250) {
        let batch: Vec<String> = chunk.iter().map(|&i| wordy_span(words, i)).collect();
        store.append(msgs(&batch.join("\n"))).await.unwrap();
    }
    for _ in 0..200 {
        if db.dictionaries().await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        db.dictionaries().await,
        1,
        "a dictionary was trained and stored"
    );
    // Give the writer time to put it in use.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}

/// Checks that span `x{i}` reads back as `wordy_span(words, i)` sent it.
async fn reads_back(store: &impl Store, words: &[&str], i: usize) {
    let got = store.span("d", &format!("x{i}")).await.unwrap().unwrap();
    let sent: serde_json::Value = serde_json::from_str(&wordy_span(words, i)).unwrap();
    let got: serde_json::Value = serde_json::from_str(got.input.unwrap().get()).unwrap();
    assert_eq!(got, sent["input"], "span {i} reads back");
}

async fn payloads_compress_with_a_dictionary_trained_on_the_first_ones<B: Backend>() {
    let db = B::fresh().await;
    let words = &HEIST_WORDS[..];
    let store = db.open().await;
    train_dictionary(&db, &store, words).await;
    let later: Vec<String> = (1500..1600).map(|i| wordy_span(words, i)).collect();
    store.append(msgs(&later.join("\n"))).await.unwrap();
    let with_dict = db.dictionary_payloads().await;
    assert!(
        with_dict >= 100,
        "later payloads use the dictionary ({with_dict})"
    );
    reads_back(&store, words, 3).await;
    reads_back(&store, words, 1599).await;
    store.close().await.unwrap();
    drop(store);
    let reopened = db.open().await;
    reads_back(&reopened, words, 1599).await;
    let more: Vec<String> = (1600..1610).map(|i| wordy_span(words, i)).collect();
    reopened.append(msgs(&more.join("\n"))).await.unwrap();
    reads_back(&reopened, words, 1609).await;
    assert_eq!(
        db.dictionaries().await,
        1,
        "reopening reuses the stored dictionary"
    );
}

/// Two databases in one process each train their own dictionary, and both stored under the
/// same id (1). Writing to one and then the other on the same thread must compress each
/// payload with its own database's dictionary, or the second database's payloads are stored
/// unreadable ("Dictionary mismatch"), as `flightdeck bench otlp` once found.
async fn two_databases_in_one_process_keep_their_own_dictionaries<B: Backend>() {
    let (db_a, db_b) = (B::fresh().await, B::fresh().await);
    let words_b = [
        "ledger", "invoice", "audit", "total", "a", "clerk", "stamp", "form", "tax", "quarter",
    ];
    let (a, b) = (db_a.open().await, db_b.open().await);
    train_dictionary(&db_a, &a, &HEIST_WORDS).await;
    train_dictionary(&db_b, &b, &words_b).await;
    // Alternate, on this one thread: each write follows a write to the other database.
    for i in 1500..1520 {
        a.append(msgs(&wordy_span(&HEIST_WORDS, i))).await.unwrap();
        b.append(msgs(&wordy_span(&words_b, i))).await.unwrap();
    }
    assert!(db_a.dictionary_payloads().await >= 20 && db_b.dictionary_payloads().await >= 20);
    for i in [3, 1500, 1519] {
        reads_back(&a, &HEIST_WORDS, i).await;
        reads_back(&b, &words_b, i).await;
    }
    a.close().await.unwrap();
    b.close().await.unwrap();
}

/// Session `u1`: a priced call (gpt-4o), an unpriced one of agent `scout`, one still
/// running and one failed without usage (neither of those two has a cost due).
fn unpriced_calls() -> Vec<String> {
    [
        r#"{"type":"span","session_id":"u1","span_id":"p1","kind":"llm","name":"chat","agent":"lead","model":"gpt-4o","started_at":1,"ended_at":2,"status":"ok","usage":{"input_tokens":1000,"output_tokens":100}}"#,
        r#"{"type":"span","session_id":"u1","span_id":"n1","kind":"llm","name":"chat","agent":"scout","model":"house-model-7","started_at":1,"ended_at":2,"status":"ok","usage":{"input_tokens":500,"output_tokens":50}}"#,
        r#"{"type":"span.start","session_id":"u1","span_id":"r1","kind":"llm","name":"chat","agent":"scout","model":"house-model-7","started_at":3}"#,
        r#"{"type":"span","session_id":"u1","span_id":"f1","kind":"llm","name":"chat","agent":"scout","model":"house-model-7","started_at":1,"ended_at":2,"status":"error","error":"429"}"#,
    ]
    .map(str::to_owned)
    .to_vec()
}

async fn totals(store: &impl Store, session: &str) -> flightdeck_model::Totals {
    store
        .session(session)
        .await
        .unwrap()
        .unwrap()
        .summary
        .totals
}

async fn a_call_without_a_price_makes_the_cost_unknown_not_zero<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    store
        .append(msgs(&unpriced_calls().join("\n")))
        .await
        .unwrap();
    let priced = (1000.0 * 2.5 + 100.0 * 10.0) / 1e6;
    let t = totals(&store, "u1").await;
    assert_eq!((t.llm_calls, t.unpriced_llm_calls), (4, 1));
    assert!((t.cost_usd - priced).abs() < 1e-12);
    let json = serde_json::to_value(t).unwrap();
    assert_eq!(json["unpriced_llm_calls"], 1);
    assert!(json["cost_usd"].is_f64(), "part is known: {json}");

    let now = Timestamp::parse_rfc3339("2026-11-20T10:00:00Z").unwrap();
    let agents = store.agents("u1", now).await.unwrap();
    let scout = agents.iter().find(|a| a.agent == "scout").unwrap();
    assert_eq!(scout.totals.unpriced_llm_calls, 1);
    let json = serde_json::to_value(scout).unwrap();
    assert!(json["totals"]["cost_usd"].is_null(), "none known: {json}");

    let scope = StatsScope {
        session_id: Some("u1".into()),
        ..Default::default()
    };
    let llm = store.llm_stats(scope.clone()).await.unwrap();
    let house = llm.iter().find(|m| m.model == "house-model-7").unwrap();
    assert_eq!(
        (house.requests, house.unpriced_requests, house.cost_usd),
        (3, 1, None)
    );
    let gpt = llm.iter().find(|m| m.model == "gpt-4o").unwrap();
    assert_eq!(gpt.unpriced_requests, 0);
    assert!((gpt.cost_usd.unwrap() - priced).abs() < 1e-12);
    let overview = store.overview(StatsScope::default()).await.unwrap();
    assert_eq!(overview.totals.unpriced_llm_calls, 1);

    // The running call ends with usage: now two are unknown; delivered twice, still two.
    let end = r#"{"type":"span.end","session_id":"u1","span_id":"r1","ended_at":4,"status":"ok","usage":{"input_tokens":10,"output_tokens":1}}"#;
    store.append(msgs(end)).await.unwrap();
    store.append(msgs(end)).await.unwrap();
    assert_eq!(totals(&store, "u1").await.unpriced_llm_calls, 2);
    // A cost the client gives is known, price or not.
    let given = r#"{"type":"span.end","session_id":"u1","span_id":"n1","ended_at":2,"status":"ok","cost_usd":0.25}"#;
    store.append(msgs(given)).await.unwrap();
    let t = totals(&store, "u1").await;
    assert_eq!(t.unpriced_llm_calls, 1);
    assert!((t.cost_usd - priced - 0.25).abs() < 1e-12);

    // Only unpriced calls: the session's cost is unknown.
    let lone = r#"{"type":"span","session_id":"u2","span_id":"x","kind":"llm","name":"chat","model":"house-model-7","started_at":1,"ended_at":2,"status":"ok","usage":{"input_tokens":5,"output_tokens":5}}"#;
    store.append(msgs(lone)).await.unwrap();
    let u2 = store.session("u2").await.unwrap().unwrap();
    let json = serde_json::to_value(&u2).unwrap();
    assert!(json["totals"]["cost_usd"].is_null(), "{json}");
    assert_eq!(json["totals"]["unpriced_llm_calls"], 1);
    let back: flightdeck_model::Session = serde_json::from_value(json).unwrap();
    assert_eq!(
        back.summary.totals, u2.summary.totals,
        "the JSON reads back"
    );
}

/// What a reader sees of one session, as comparable JSON (without its id).
async fn everything_of(store: &dyn Store, id: &str) -> serde_json::Value {
    let now = Timestamp(1_000_000);
    let mut spans = Vec::new();
    for s in store.spans(id).await.unwrap() {
        spans.push(serde_json::to_value(store.span(id, &s.span_id).await.unwrap()).unwrap());
    }
    let scope = StatsScope {
        session_id: Some(id.into()),
        ..Default::default()
    };
    let mut json = serde_json::json!({
        "session": store.session(id).await.unwrap().map(|s| (s.summary.totals, s.summary.started_at, s.summary.agents, s.summary.status)),
        "spans": spans,
        "edges": store.edges(id).await.unwrap(),
        "events": store.events(id, EventQuery::default()).await.unwrap().items,
        "agents": store.agents(id, now).await.unwrap(),
        "llm": store.llm_stats(scope.clone()).await.unwrap(),
        "tools": store.tool_stats(scope).await.unwrap(),
    });
    // Ids of the session itself differ between the stores compared.
    let text = json.to_string().replace(&format!("\"{id}\""), "\"S\"");
    json = serde_json::from_str(&text).unwrap();
    json
}

/// A trace's first spans, filed under its trace id before the trace named its session.
const PROVISIONAL: [&str; 7] = [
    r#"{"type":"span","session_id":"0af7","span_id":"c1","trace_id":"0af7","parent_id":"a","kind":"llm","name":"chat","agent":"planner","model":"gpt-4o","started_at":2000,"ended_at":3000,"usage":{"input_tokens":100,"output_tokens":20},"input":[{"role":"user","content":"plan"}]}"#,
    r#"{"type":"span","session_id":"0af7","span_id":"t1","trace_id":"0af7","parent_id":"a","kind":"tool","name":"grep","agent":"coder","started_at":3100,"ended_at":3200,"status":"error","error":"no match"}"#,
    r#"{"type":"span.update","session_id":"0af7","span_id":"c2","input":[{"role":"user","content":"again"}]}"#,
    r#"{"type":"event","session_id":"0af7","span_id":"c1","event_id":"e1","message":"thinking","at":2500}"#,
    r#"{"type":"edge","session_id":"0af7","kind":"delegation","from_agent":"planner","to_agent":"coder","at":3050}"#,
    r#"{"type":"agent.status","session_id":"0af7","agent":"coder","status":"active","at":3100}"#,
    r#"{"type":"metric","session_id":"0af7","name":"queue.depth","value":2,"at":3000}"#,
];

/// The same trace's later spans, naming their session: the root, and a span reported twice.
const NAMED: [&str; 3] = [
    r#"{"type":"span","session_id":"conv-1","span_id":"a","trace_id":"0af7","kind":"agent","name":"crew","agent":"planner","started_at":1000,"ended_at":9000}"#,
    r#"{"type":"span","session_id":"conv-1","span_id":"c2","trace_id":"0af7","parent_id":"a","kind":"llm","name":"chat","agent":"coder","model":"gpt-4o","started_at":4000,"ended_at":5000,"usage":{"input_tokens":50,"output_tokens":5}}"#,
    r#"{"type":"span","session_id":"conv-1","span_id":"c1","trace_id":"0af7","parent_id":"a","kind":"llm","name":"chat","agent":"planner","model":"gpt-4o","started_at":2000,"ended_at":3000,"usage":{"input_tokens":100,"output_tokens":20},"output":{"role":"assistant","content":"ok"}}"#,
];

async fn a_move_refiles_everything_as_if_it_had_been_filed_there<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    let mut feed = store.subscribe();
    store.append(msgs(&PROVISIONAL.join("\n"))).await.unwrap();
    store.append(msgs(&NAMED[..2].join("\n"))).await.unwrap();
    // The move and a late span still addressed to the trace id, in one batch.
    let late = NAMED[2].replace("\"conv-1\"", "\"0af7\"");
    store
        .append(msgs(&format!(
            "{{\"type\":\"session.move\",\"session_id\":\"0af7\",\"into\":\"conv-1\"}}\n{late}"
        )))
        .await
        .unwrap();

    // The same messages filed under the session from the start.
    let reference_db = B::fresh().await;
    let reference = reference_db.open().await;
    let direct = PROVISIONAL
        .iter()
        .chain(&NAMED)
        .map(|m| m.replace("\"session_id\":\"0af7\"", "\"session_id\":\"conv-1\""))
        .collect::<Vec<_>>()
        .join("\n");
    reference.append(msgs(&direct)).await.unwrap();
    let want = everything_of(&reference, "conv-1").await;
    assert_eq!(everything_of(&store, "conv-1").await, want);
    let s = store.session("conv-1").await.unwrap().unwrap().summary;
    assert_eq!(
        (s.totals.spans, s.totals.llm_calls, s.totals.input_tokens),
        (4, 2, 150)
    );
    assert!(
        store.session("0af7").await.unwrap().is_none(),
        "the trace id is gone"
    );
    assert!(store.spans("0af7").await.unwrap().is_empty());
    assert_eq!(
        store
            .sessions(SessionQuery::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // The feed carries the move, the target's new totals, and the late span re-filed.
    let mut last = None;
    while let Ok(c) = feed.try_recv() {
        last = Some(c);
    }
    let c = last.unwrap();
    let Message::SessionMove(mv) = &c.messages[0] else {
        panic!("{:?}", c.messages)
    };
    assert_eq!(
        (mv.session_id.as_str(), mv.into.as_str()),
        ("0af7", "conv-1")
    );
    assert_eq!(c.messages[1].session_id(), Some("conv-1"));
    assert_eq!(c.sessions[0].session_id, "conv-1");
    assert_eq!(c.sessions[0].totals.spans, 4);

    // Across a restart, what names the trace id still lands in the session.
    store.close().await.unwrap();
    drop(store);
    let store = db.open().await;
    store
        .append(msgs(r#"{"type":"span","session_id":"0af7","span_id":"c3","trace_id":"0af7","parent_id":"a","kind":"tool","name":"ls","started_at":6000,"ended_at":6100}"#))
        .await
        .unwrap();
    assert!(store.session("0af7").await.unwrap().is_none());
    assert_eq!(store.spans("conv-1").await.unwrap().len(), 5);
    // A session moves once; a move into a moved session follows it.
    store
        .append(msgs(
            "{\"type\":\"session.move\",\"session_id\":\"0af7\",\"into\":\"other\"}\n\
             {\"type\":\"event\",\"session_id\":\"b9\",\"message\":\"x\",\"at\":7000}\n\
             {\"type\":\"session.move\",\"session_id\":\"b9\",\"into\":\"0af7\"}",
        ))
        .await
        .unwrap();
    assert!(store.session("other").await.unwrap().is_none());
    assert!(store.session("b9").await.unwrap().is_none());
    let events = store.events("conv-1", EventQuery::default()).await.unwrap();
    assert_eq!(events.items.len(), 2, "{:?}", events.items);
}

async fn a_span_known_only_from_updates_is_not_listed_until_it_arrives<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    store
        .append(msgs(r#"{"type":"span.update","session_id":"s1","span_id":"c2","input":[{"role":"user","content":"again"}],"usage":{"input_tokens":3,"output_tokens":1}}"#))
        .await
        .unwrap();
    assert!(store.spans("s1").await.unwrap().is_empty());
    let s = store.session("s1").await.unwrap().unwrap().summary;
    assert!(s.totals.is_zero(), "{:?}", s.totals);
    store
        .append(msgs(r#"{"type":"span","session_id":"s1","span_id":"c2","trace_id":"4bf9","kind":"llm","name":"chat","model":"gpt-4o","started_at":1,"ended_at":2,"usage":{"input_tokens":3,"output_tokens":1}}"#))
        .await
        .unwrap();
    let spans = store.spans("s1").await.unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].trace_id.as_deref(), Some("4bf9"));
    let detail = store.span("s1", "c2").await.unwrap().unwrap();
    assert!(detail.input.unwrap().get().contains("again"));
    let s = store.session("s1").await.unwrap().unwrap().summary;
    assert_eq!((s.totals.spans, s.totals.llm_calls), (1, 1));
}

async fn traced_sessions_end_when_quiet_and_a_later_span_reopens_them<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    store
        .append(msgs(&[
            // A traced session: the root failed; a child of another trace ended last.
            r#"{"type":"span","session_id":"t","span_id":"r","trace_id":"01","kind":"agent","name":"crew","started_at":1000,"ended_at":5000,"status":"error","error":"boom"}"#,
            r#"{"type":"span","session_id":"t","span_id":"c","trace_id":"01","parent_id":"r","kind":"llm","name":"chat","started_at":2000,"ended_at":4000}"#,
            r#"{"type":"span","session_id":"t","span_id":"r2","trace_id":"02","kind":"agent","name":"crew","started_at":5500,"ended_at":6000}"#,
            r#"{"type":"span","session_id":"t","span_id":"c2","trace_id":"02","parent_id":"r2","kind":"llm","name":"chat","started_at":5600,"ended_at":5900}"#,
            // A root that failed in the last trace decides: here the last root (r2) is ok.
            // Not ended: a traced session with a span still running, a native session.
            r#"{"type":"span.start","session_id":"busy","span_id":"x","trace_id":"03","kind":"llm","name":"chat","started_at":1000}"#,
            r#"{"type":"span","session_id":"native","span_id":"x","kind":"llm","name":"chat","started_at":1000,"ended_at":2000}"#,
            // Only a log record of a span that never came: not a running span.
            r#"{"type":"span","session_id":"f","span_id":"r","trace_id":"04","kind":"agent","name":"crew","started_at":1000,"ended_at":3000,"status":"error","error":"boom"}"#,
            r#"{"type":"span.update","session_id":"f","span_id":"never","input":"hi"}"#,
        ].join("\n")))
        .await
        .unwrap();
    let mut feed = store.subscribe();
    assert_eq!(
        store.end_idle(Timestamp(0)).await.unwrap(),
        0,
        "touched since"
    );
    let later = Timestamp(Timestamp::now().0 + 1_000_000_000);
    assert_eq!(store.end_idle(later).await.unwrap(), 2);
    let c = loop {
        let c = feed.recv().await.unwrap();
        if matches!(c.messages[0], Message::SessionEnd(_)) {
            break c;
        }
    };
    let mut ended: Vec<&str> = c.messages.iter().filter_map(Message::session_id).collect();
    ended.sort();
    assert_eq!(ended, ["f", "t"]);
    assert_eq!(c.sessions.len(), 2);

    let t = store.session("t").await.unwrap().unwrap().summary;
    assert_eq!(
        t.status,
        SessionStatus::Completed,
        "its last root did not fail"
    );
    assert_eq!(
        (t.started_at, t.ended_at),
        (Timestamp(1000), Some(Timestamp(6000)))
    );
    assert_eq!(t.duration_ms, 5000.0 / 1e6, "last end minus first start");
    let f = store.session("f").await.unwrap().unwrap().summary;
    assert_eq!(
        (f.status, f.error.as_deref()),
        (SessionStatus::Failed, Some("boom"))
    );
    assert_eq!(f.ended_at, Some(Timestamp(3000)));
    for running in ["busy", "native"] {
        let s = store.session(running).await.unwrap().unwrap().summary;
        assert_eq!(s.status, SessionStatus::Running, "{running}");
    }
    assert_eq!(store.end_idle(later).await.unwrap(), 0, "ended once");

    // Late news of an earlier span does not reopen it; a later span does.
    store
        .append(msgs(r#"{"type":"span","session_id":"t","span_id":"old","trace_id":"01","parent_id":"r","kind":"tool","name":"ls","started_at":3000,"ended_at":3500}"#))
        .await
        .unwrap();
    assert_eq!(
        store.session("t").await.unwrap().unwrap().summary.status,
        SessionStatus::Completed
    );
    store
        .append(msgs(r#"{"type":"span","session_id":"t","span_id":"r3","trace_id":"05","kind":"agent","name":"crew","started_at":7000,"ended_at":8000,"status":"error"}"#))
        .await
        .unwrap();
    let t = store.session("t").await.unwrap().unwrap().summary;
    assert_eq!((t.status, t.ended_at), (SessionStatus::Running, None));
    let later = Timestamp(Timestamp::now().0 + 1_000_000_000);
    assert_eq!(store.end_idle(later).await.unwrap(), 1);
    let t = store.session("t").await.unwrap().unwrap().summary;
    assert_eq!(
        (t.status, t.ended_at),
        (SessionStatus::Failed, Some(Timestamp(8000)))
    );

    // Ended sessions fall to retention like any other.
    assert_eq!(store.retain(Timestamp(10_000)).await.unwrap(), 2);
}

async fn a_span_move_makes_one_span_of_one_call_reported_twice<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    let proxied = |id: &str| {
        format!(
            r#"{{"type":"span","session_id":"proxy-1","span_id":"{id}","kind":"llm","name":"chat.completions","model":"gpt-4o","started_at":2000,"ended_at":3000,"usage":{{"input_tokens":100,"output_tokens":20}},"input":{{"messages":"exact"}},"output":{{"exact":true}}}}"#
        )
    };
    let traced = |id: &str| {
        format!(
            r#"{{"type":"span","session_id":"conv","span_id":"{id}","trace_id":"0af7","parent_id":"a","kind":"llm","name":"chat gpt-4o","agent":"planner","model":"gpt-4o","started_at":2000,"ended_at":3000,"usage":{{"input_tokens":100,"output_tokens":20}}}}"#
        )
    };
    let moved = |from: &str, into: &str| {
        format!(
            r#"{{"type":"span.move","session_id":"proxy-1","span_id":"{from}","into":"conv","into_span":"{into}"}}"#
        )
    };
    // The proxy's record first, then the traced span with the move.
    store.append(msgs(&proxied("p1"))).await.unwrap();
    store
        .append(msgs(&format!("{}\n{}", moved("p1", "c1"), traced("c1"))))
        .await
        .unwrap();
    // The traced span first, then the proxy's record, the move, and a late end of the record.
    store.append(msgs(&traced("c2"))).await.unwrap();
    store
        .append(msgs(&format!(
            "{}\n{}\n{}",
            proxied("p2"),
            moved("p2", "c2"),
            r#"{"type":"span.end","session_id":"proxy-1","span_id":"p2","ended_at":3000,"output":{"exact":true}}"#
        )))
        .await
        .unwrap();

    let spans = store.spans("conv").await.unwrap();
    assert_eq!(spans.len(), 2, "{spans:?}");
    for id in ["c1", "c2"] {
        let s = store.span("conv", id).await.unwrap().unwrap();
        assert_eq!(
            s.summary.parent_id.as_deref(),
            Some("a"),
            "the trace's parent"
        );
        assert_eq!(s.summary.agent.as_deref(), Some("planner"));
        assert_eq!(s.summary.trace_id.as_deref(), Some("0af7"));
        assert_eq!(s.output.unwrap().get(), r#"{"exact":true}"#, "{id}");
        assert_eq!(s.input.unwrap().get(), r#"{"messages":"exact"}"#, "{id}");
    }
    let conv = store.session("conv").await.unwrap().unwrap().summary;
    assert_eq!((conv.totals.llm_calls, conv.totals.input_tokens), (2, 200));
    let proxy = store.session("proxy-1").await.unwrap().unwrap().summary;
    assert!(proxy.totals.is_zero(), "counted once: {:?}", proxy.totals);
    assert!(store.spans("proxy-1").await.unwrap().is_empty());
    let llm = store.llm_stats(StatsScope::default()).await.unwrap();
    assert_eq!(llm.iter().map(|l| l.requests).sum::<i64>(), 2, "{llm:?}");
}

async fn metrics_are_read_by_prefix_and_averaged_over_buckets<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    let mut lines = String::new();
    for (i, v) in [1.0, 3.0, 5.0, 7.0, 20.0].iter().enumerate() {
        // 10:00:00, :10, :20, :30 and 10:01:00: four in the first minute, one in the next.
        let second = if i < 4 { i * 10 } else { 60 };
        lines.push_str(&format!(
            "{{\"type\":\"metric\",\"name\":\"gpu.memory_usage\",\"value\":{v},\"at\":\"2026-11-20T10:{:02}:{:02}Z\",\"labels\":{{\"gpu\":\"0\"}}}}\n",
            second / 60,
            second % 60
        ));
    }
    lines.push_str(r#"{"type":"metric","name":"system.cpu.utilization","value":0.5,"at":"2026-11-20T10:00:00Z"}"#);
    store.append(msgs(&lines)).await.unwrap();
    let q = |prefix: &str, step: Option<u64>| MetricQuery {
        prefix: Some(prefix.to_owned()),
        step_secs: step,
        ..Default::default()
    };
    let raw = store.metrics(q("gpu.", None)).await.unwrap();
    assert_eq!(raw.len(), 5, "{raw:?}");
    assert!(raw.iter().all(|p| p.name == "gpu.memory_usage"));
    let per_minute = store.metrics(q("gpu.memory_", Some(60))).await.unwrap();
    let values: Vec<f64> = per_minute.iter().map(|p| p.value).collect();
    assert_eq!(values, [4.0, 20.0], "the mean of each minute, oldest first");
    assert_eq!(per_minute[1].at.0 - per_minute[0].at.0, 60_000_000_000);
    assert_eq!(per_minute[0].labels["gpu"], "0");
    assert!(
        store.metrics(q("gpu_", None)).await.unwrap().is_empty(),
        "_ is not a wildcard"
    );
    assert_eq!(store.metrics(q("system.", None)).await.unwrap().len(), 1);
}

async fn logs_of_every_session_are_filtered_paged_and_followed<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    let line = |s: &str, n: usize, level: &str, agent: &str, text: &str| {
        format!(
            "{{\"type\":\"event\",\"session_id\":\"{s}\",\"event_id\":\"e{n}\",\"category\":\"log\",\"level\":\"{level}\",\"agent\":\"{agent}\",\"message\":\"{text}\",\"at\":\"2026-11-20T10:00:{n:02}Z\"}}\n"
        )
    };
    let mut batch = String::new();
    batch.push_str(&line("a", 1, "info", "planner", "plan ready"));
    batch.push_str(&line("b", 2, "warn", "hacker", "Camera offline"));
    batch.push_str(&line("a", 3, "error", "planner", "vault alarm"));
    batch.push_str(&line("b", 4, "debug", "hacker", "retrying camera"));
    batch.push_str(r#"{"type":"event","session_id":"a","event_id":"d1","category":"decision","name":"go","message":"camera"}"#);
    store.append(msgs(&batch)).await.unwrap();
    let logs = |q: LogQuery| {
        let store = &store;
        async move { store.logs(q).await.unwrap() }
    };
    let all = logs(LogQuery::default()).await;
    let texts = |l: &[LogLine]| {
        l.iter()
            .map(|x| x.message.clone().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts(&all),
        [
            "plan ready",
            "Camera offline",
            "vault alarm",
            "retrying camera"
        ],
        "every session, oldest first, no decision"
    );
    assert_eq!(all[1].session_id, "b");
    let warn = logs(LogQuery {
        level: Some(Level::Warn),
        ..Default::default()
    })
    .await;
    assert_eq!(texts(&warn), ["Camera offline", "vault alarm"]);
    let camera = logs(LogQuery {
        q: Some("CAMERA".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(texts(&camera), ["Camera offline", "retrying camera"]);
    let planner = logs(LogQuery {
        agent: Some("planner".into()),
        session_id: Some("a".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(texts(&planner), ["plan ready", "vault alarm"]);
    let newest_two = logs(LogQuery {
        limit: Some(2),
        ..Default::default()
    })
    .await;
    assert_eq!(texts(&newest_two), ["vault alarm", "retrying camera"]);
    let older = logs(LogQuery {
        before: Some(newest_two[0].seq),
        ..Default::default()
    })
    .await;
    assert_eq!(texts(&older), ["plan ready", "Camera offline"]);
    let last = all.last().unwrap().seq;
    assert!(
        logs(LogQuery {
            after: Some(last),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    store
        .append(msgs(&line("c", 5, "info", "mole", "inside")))
        .await
        .unwrap();
    let followed = logs(LogQuery {
        after: Some(last),
        ..Default::default()
    })
    .await;
    assert_eq!(texts(&followed), ["inside"]);
}

async fn live_agents_are_those_of_running_and_recently_seen_sessions<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    let now = Timestamp::now();
    let at = |secs_ago: i64| Timestamp(now.0 - secs_ago * 1_000_000_000).to_rfc3339();
    let batch = format!(
        "{{\"type\":\"session.start\",\"session_id\":\"run\",\"name\":\"running crew\"}}\n\
         {{\"type\":\"agent.status\",\"session_id\":\"run\",\"agent\":\"planner\",\"status\":\"active\",\"task\":\"plan\",\"at\":\"{}\"}}\n\
         {{\"type\":\"session.start\",\"session_id\":\"old\"}}\n\
         {{\"type\":\"agent.status\",\"session_id\":\"old\",\"agent\":\"coder\",\"status\":\"idle\",\"at\":\"{}\"}}\n\
         {{\"type\":\"session.end\",\"session_id\":\"old\",\"status\":\"completed\"}}\n\
         {{\"type\":\"session.start\",\"session_id\":\"recent\"}}\n\
         {{\"type\":\"agent.status\",\"session_id\":\"recent\",\"agent\":\"hacker\",\"status\":\"idle\",\"at\":\"{}\"}}\n\
         {{\"type\":\"session.end\",\"session_id\":\"recent\",\"status\":\"completed\"}}\n",
        at(2),
        at(7200),
        at(60)
    );
    store.append(msgs(&batch)).await.unwrap();
    let since = Timestamp(now.0 - 3600 * 1_000_000_000);
    let live = store.live_agents(since, now, 100).await.unwrap();
    let names: Vec<(&str, &str)> = live
        .iter()
        .map(|a| (a.session_id.as_str(), a.agent.agent.as_str()))
        .collect();
    assert_eq!(
        names,
        [("run", "planner"), ("recent", "hacker")],
        "most recently seen first; the old session's agent is left out"
    );
    assert_eq!(live[0].session_name.as_deref(), Some("running crew"));
    assert_eq!(live[0].agent.task.as_deref(), Some("plan"));
    assert_eq!(store.live_agents(since, now, 1).await.unwrap().len(), 1);
}

fn exchange(session: &str, span: &str, body: &[u8]) -> flightdeck_model::replay::Exchange {
    use flightdeck_model::replay::{Exchange, ExchangeChunk};
    Exchange {
        session_id: session.into(),
        span_id: span.into(),
        upstream: "openai".into(),
        path: "/v1/chat/completions".into(),
        started_at: flightdeck_model::Timestamp(1_000),
        status: 200,
        content_type: Some("text/event-stream".into()),
        request: br#"{"model":"gpt-4o","stream":true}"#.to_vec(),
        response: body.to_vec(),
        chunks: vec![
            ExchangeChunk {
                len: 3,
                after_us: 10,
            },
            ExchangeChunk {
                len: body.len() as u32 - 3,
                after_us: 20,
            },
        ],
        truncated: false,
    }
}

/// An exchange reads back byte for byte after a reopen, also by the ids its span moved to; a
/// replay's record keeps its highest version.
async fn exchanges_and_replays_survive_reopening<B: Backend>() {
    use flightdeck_model::replay::{ForkPoint, OnMismatch, ReplayRecord, Saved};
    let db = B::fresh().await;
    let big = "data: the plan\n\n".repeat(500);
    let x = exchange("s1", "a1", big.as_bytes());
    let record = |version: u64, calls: u64| ReplayRecord {
        replay_id: "r1".into(),
        session_id: "s1".into(),
        span_id: "a1".into(),
        fork_session_id: "fork".into(),
        created_at: flightdeck_model::Timestamp(5),
        fork: ForkPoint {
            agent: None,
            call: 1,
        },
        request: None,
        on_mismatch: OnMismatch::Fail,
        recorded_calls: 0,
        saved: Saved {
            calls,
            ..Saved::default()
        },
        upstream_calls: 0,
        mismatch: None,
        progress: Vec::new(),
        served_spans: Vec::new(),
        version,
    };
    {
        let store = db.open().await;
        store.write_exchanges(vec![x.clone()]).await.unwrap();
        store
            .append(msgs(
                r#"{"type":"span.move","session_id":"s1","span_id":"a1","into":"s2","into_span":"b1"}"#,
            ))
            .await
            .unwrap();
        store.write_replay(record(2, 2)).await.unwrap();
        store.write_replay(record(1, 1)).await.unwrap();
        store.close().await.unwrap();
    }
    let store = db.open().await;
    assert_eq!(store.exchange("s1", "a1").await.unwrap().as_ref(), Some(&x));
    assert_eq!(
        store.exchange("s2", "b1").await.unwrap().as_ref(),
        Some(&x),
        "found by the span it moved into"
    );
    assert_eq!(store.exchange("s1", "nope").await.unwrap(), None);
    let r = store.replay("r1").await.unwrap().unwrap();
    assert_eq!((r.version, r.saved.calls), (2, 2), "the older write lost");
    assert_eq!(r.on_mismatch, OnMismatch::Fail);
    assert!(store.replay("r2").await.unwrap().is_none());
}

async fn old_metric_samples_roll_up_into_minute_means_and_the_oldest_go<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    let mut lines = String::new();
    // 12 samples 5 s apart in 10:00 (values 0..11), 2 in 10:01 (100, 200), 1 in 09:00 (7).
    let sample = |at: &str, v: f64| {
        format!(
            "{{\"type\":\"metric\",\"name\":\"cpu\",\"value\":{v},\"at\":\"2026-11-20T{at}Z\",\"labels\":{{\"core\":\"0\"}}}}\n"
        )
    };
    for i in 0..12 {
        lines.push_str(&sample(&format!("10:00:{:02}", i * 5), i as f64));
    }
    lines.push_str(&sample("10:01:10", 100.0));
    lines.push_str(&sample("10:01:40", 200.0));
    lines.push_str(&sample("09:00:30", 7.0));
    lines.push_str(&sample("10:05:00", 1.0));
    store.append(msgs(&lines)).await.unwrap();
    let t = |s: &str| Timestamp::parse_rfc3339(&format!("2026-11-20T{s}Z")).unwrap();
    let minute = std::time::Duration::from_secs(60);
    let (rolled, deleted) = store
        .roll_up_metrics(t("10:02:00"), minute, t("09:30:00"))
        .await
        .unwrap();
    assert_eq!(
        (rolled, deleted),
        (14, 1),
        "the 09:00 point is past the retention"
    );
    let points = store
        .metrics(MetricQuery {
            name: Some("cpu".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let got: Vec<(String, f64)> = points
        .iter()
        .map(|p| (p.at.to_rfc3339(), p.value))
        .collect();
    assert_eq!(
        got,
        [
            ("2026-11-20T10:00:00Z".to_owned(), 5.5),
            ("2026-11-20T10:01:00Z".to_owned(), 150.0),
            ("2026-11-20T10:05:00Z".to_owned(), 1.0),
        ],
        "a mean per minute before the cut-off; raw after it"
    );
    assert_eq!(points[0].labels["core"], "0");
    let again = store
        .roll_up_metrics(t("10:02:00"), minute, t("09:30:00"))
        .await
        .unwrap();
    assert_eq!(again, (0, 0), "rolled-up minutes are left as they are");
}

/// SQLite's own migrations: a database of schema version 4 upgrades with its counts right.
#[tokio::test]
async fn upgrading_counts_the_unpriced_calls_already_stored() {
    let db = Sqlite::fresh().await;
    let path = db.0.path().join("fd.db");
    let store = db.open().await;
    store
        .append(msgs(&unpriced_calls().join("\n")))
        .await
        .unwrap();
    store.close().await.unwrap();
    drop(store);
    // Back to the schema before the count (version 4), without what later migrations add.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "ALTER TABLE sessions DROP COLUMN unpriced_llm_calls;
         ALTER TABLE agents DROP COLUMN unpriced_llm_calls;
         DROP TABLE exchanges;
         DROP TABLE replays;
         DROP INDEX spans_running;
         PRAGMA user_version = 4;",
    )
    .unwrap();
    drop(conn);
    let reopened = db.open().await;
    assert_eq!(totals(&reopened, "u1").await.unpriced_llm_calls, 1);
    let now = Timestamp::parse_rfc3339("2026-11-20T10:00:00Z").unwrap();
    let agents = reopened.agents("u1", now).await.unwrap();
    let count = |name: &str| {
        agents
            .iter()
            .find(|a| a.agent == name)
            .unwrap()
            .totals
            .unpriced_llm_calls
    };
    assert_eq!((count("scout"), count("lead")), (1, 0));
}

/// A session's running spans are its spans without an outcome; the session list sorts by a
/// total in either direction and pages through that order; the headline figures count every
/// session the filters match.
async fn running_spans_sorted_lists_and_filtered_figures<B: Backend>() {
    let db = B::fresh().await;
    let store = db.open().await;
    let mut lines = Vec::new();
    for (n, spans) in [(0, 3), (1, 1), (2, 5), (3, 2)] {
        for k in 0..spans {
            lines.push(format!(
                r#"{{"type":"span","session_id":"s{n}","span_id":"a{k}","kind":"tool","name":"t","agent":"{}","started_at":"2026-12-02T10:00:0{k}Z","ended_at":"2026-12-02T10:00:09Z"}}"#,
                if n % 2 == 0 { "even" } else { "odd" }
            ));
        }
    }
    lines.push(r#"{"type":"span.start","session_id":"s1","span_id":"r1","kind":"llm","name":"chat","started_at":"2026-12-02T10:00:05Z"}"#.into());
    store.append(msgs(&lines.join("\n"))).await.unwrap();

    let running = store.running_spans("s1").await.unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(
        (running[0].span_id.as_str(), running[0].status),
        ("r1", SpanStatus::Running)
    );
    assert!(store.running_spans("s0").await.unwrap().is_empty());

    let ids = |p: &flightdeck_model::Page<flightdeck_model::SessionSummary>| {
        p.items
            .iter()
            .map(|s| s.session_id.clone())
            .collect::<Vec<_>>()
    };
    let q = |sort: &str, cursor: Option<String>| SessionQuery {
        sort: Some(sort.into()),
        limit: Some(2),
        cursor,
        ..SessionQuery::default()
    };
    let first = store.sessions(q("-spans", None)).await.unwrap();
    assert_eq!(ids(&first), ["s2", "s0"]);
    let second = store
        .sessions(q("-spans", first.next_cursor))
        .await
        .unwrap();
    assert_eq!(ids(&second), ["s3", "s1"]);
    let up = store.sessions(q("spans", None)).await.unwrap();
    assert_eq!(ids(&up), ["s1", "s3"]);
    assert!(store.sessions(q("name", None)).await.is_err());

    let even = store
        .session_stats(SessionQuery {
            agent: Some("EVEN".into()),
            limit: Some(1),
            ..SessionQuery::default()
        })
        .await
        .unwrap();
    assert_eq!((even.sessions, even.totals.spans), (2, 8));
    assert_eq!(even.avg_spans_per_session, 4.0);
}
