//! One session as one self-contained HTML file that opens offline, read-only: the page's own
//! modules (`ui/`, unchanged) and the session's data inside it.
//!
//! The page asks for its data through `fetch` (the query API) and the live socket (`/ws`).
//! A shared file answers both from what is inside it: `ui/shared.js`, a classic script run
//! before the modules, puts in a `fetch` that answers the API paths recorded here and a
//! socket that answers a subscription to the session with its recorded `hello` (the very
//! frame the hub sends, so the session model loads as it does live). Writes are refused.
//! The modules become `data:` URLs under an import map (`modules`), since a page opened from
//! a file can load no other file.

mod modules;

use crate::otlp::value::base64;
use flightdeck_model::Timestamp;
use flightdeck_model::record::{OverviewStats, Page, SessionStatus};
use flightdeck_store::{MetricQuery, Result, ReviewQuery, StatsScope, Store};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// The shared page of session `id`, or `None` when there is no such session.
pub async fn page(store: &dyn Store, id: &str) -> Result<Option<String>> {
    let Some(data) = data(store, id).await? else {
        return Ok(None);
    };
    Ok(Some(modules::html(&data, &title(&data, id))))
}

fn title(data: &Value, id: &str) -> String {
    data["api"][format!("/api/v1/sessions/{id}")]["name"]
        .as_str()
        .unwrap_or(id)
        .to_owned()
}

/// What the page will ask for: `{session_id, hello, api: {path: answer}}`.
async fn data(store: &dyn Store, id: &str) -> Result<Option<Value>> {
    let Some(session) = store.session(id).await? else {
        return Ok(None);
    };
    let s = format!("/api/v1/sessions/{id}");
    let mut api = Map::new();
    let mut put = |path: String, v: Value| {
        api.insert(path, v);
    };
    let spans = store.spans(id).await?;
    for detail in super::export::details(store, id).await? {
        put(
            format!("{s}/spans/{}", detail.summary.span_id),
            to_value(&detail),
        );
    }
    put(format!("{s}/spans"), to_value(&spans));
    put(format!("{s}/edges"), to_value(&store.edges(id).await?));
    put(
        format!("{s}/agents"),
        to_value(&store.agents(id, Timestamp::now()).await?),
    );
    let scope = StatsScope {
        session_id: Some(id.to_owned()),
        ..StatsScope::default()
    };
    put(
        format!("{s}/llm"),
        to_value(&store.llm_stats(scope.clone()).await?),
    );
    put(
        format!("{s}/tools"),
        to_value(&store.tool_stats(scope).await?),
    );
    put(
        format!("{s}/events"),
        json!({ "items": super::export::events(store, id).await? }),
    );
    let metrics = MetricQuery {
        session_id: Some(id.to_owned()),
        limit: Some(10_000),
        ..MetricQuery::default()
    };
    put(
        "/api/v1/metrics".into(),
        to_value(&store.metrics(metrics).await?),
    );
    let reviews = store
        .reviews(ReviewQuery {
            session_id: Some(id.to_owned()),
            limit: Some(1000),
            ..ReviewQuery::default()
        })
        .await?;
    put("/api/v1/reviews".into(), json!({ "reviews": reviews }));
    put("/api/v1/refusals".into(), json!([]));
    let summary = session.summary.clone();
    put(
        "/api/v1/stats/overview".into(),
        to_value(&overview(&summary)),
    );
    put(
        "/api/v1/sessions".into(),
        to_value(&Page {
            items: vec![summary],
            next_cursor: None,
        }),
    );
    put(s, to_value(&session));

    let mut snapshot = store.session_snapshot(id, Timestamp::now()).await?;
    // Pending reviews of other sessions are not this file's to carry.
    snapshot.reviews.retain(|r| r.session_id == id);
    let hello = crate::hub::session_hello(id, snapshot, Duration::from_secs(15));
    Ok(Some(
        json!({ "session_id": id, "hello": hello, "api": api }),
    ))
}

/// The headline figures of a list that holds this one session.
fn overview(s: &flightdeck_model::record::SessionSummary) -> OverviewStats {
    let is = |st: SessionStatus| i64::from(s.status == st);
    let ended = s.status != SessionStatus::Running;
    OverviewStats {
        sessions: 1,
        running: is(SessionStatus::Running),
        completed: is(SessionStatus::Completed),
        failed: is(SessionStatus::Failed),
        completion_rate: ended.then(|| is(SessionStatus::Completed) as f64),
        avg_spans_per_session: s.totals.spans as f64,
        totals: s.totals,
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    // Read models are plain data: they always serialise.
    serde_json::to_value(v).unwrap_or_default()
}

/// `bytes` as a `data:` URL of type `mime`.
fn data_url(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", base64(bytes))
}
