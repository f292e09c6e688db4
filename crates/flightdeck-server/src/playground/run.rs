//! One variant of a plan run: its body sent through the proxy's own calls
//! (`proxy::direct`: the proxy's client, keys and recorder), the streamed text handed on as
//! it arrives, and the run read back from the store once the recorder has kept it, so the
//! answer a caller gets and the run listed later are one and the same.

use super::plan::{Plan, Variant};
use super::runs::{self, Run};
use crate::AppState;
use crate::error::ApiError;
use crate::proxy::OwnCall;
use crate::proxy::api::{Endpoint, Stream};
use crate::proxy::sse::{self, EventSplitter};
use axum::http::StatusCode;
use bytes::Bytes;
use flightdeck_model::Message;
use flightdeck_model::message::SpanUpdate;
use flightdeck_model::record::{SpanDetail, SpanStatus};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use std::time::{Duration, Instant};

/// The longest a finished run waits for the recorder to store it.
const STORED_WITHIN: Duration = Duration::from_secs(10);

/// The body variant `v` of `plan` sends: the plan's, with the variant's model and
/// temperature, streamed when the plan is (with usage asked for in chat completions streams,
/// as the proxy asks for it, unless the upstream is configured not to).
pub fn body_for(app: &AppState, plan: &Plan, v: &Variant) -> Bytes {
    let mut body = plan.body.clone();
    if let Some(model) = &v.model {
        body.insert("model".into(), model.clone().into());
    }
    if let Some(t) = v.temperature {
        body.insert("temperature".into(), t.into());
    }
    body.insert("stream".into(), plan.stream.into());
    let usage = app
        .proxy
        .upstreams()
        .get(&plan.upstream)
        .is_some_and(|u| u.stream_usage);
    if plan.stream && usage && plan.endpoint == Endpoint::ChatCompletions {
        body.entry("stream_options")
            .or_insert_with(|| json!({"include_usage": true}));
    }
    Bytes::from(serde_json::to_vec(&Value::Object(body)).unwrap_or_default())
}

/// Runs variant `index` of `plan` as span `span_id`; each piece of streamed text goes to
/// `delta` as it arrives.
pub async fn run(
    app: &AppState,
    plan: &Plan,
    index: usize,
    span_id: String,
    delta: &(dyn Fn(String) + Send + Sync),
) -> Result<Run, ApiError> {
    let variant = &plan.variants[index];
    let mut attributes = Map::new();
    if let Some(o) = &plan.original {
        attributes.insert(runs::OF_SESSION.into(), o.session_id.clone().into());
        attributes.insert(runs::OF_SPAN.into(), o.span_id.clone().into());
    }
    attributes.insert(runs::VARIANT.into(), index.into());
    if let Some(label) = &variant.label {
        attributes.insert(runs::LABEL.into(), label.clone().into());
    }
    let started = Instant::now();
    let answer = app
        .proxy
        .call_own(OwnCall {
            upstream: plan.upstream.clone(),
            endpoint: plan.endpoint,
            body: body_for(app, plan, variant),
            key: plan.key.clone(),
            session_id: plan.session_id.clone(),
            span_id: span_id.clone(),
            name: plan.endpoint.span_name().to_owned(),
            attributes,
        })
        .await;
    let mut first_token = None;
    // A call that got no answer is recorded as failed by the proxy; it is read back below.
    if let Ok(answer) = answer {
        let read = plan.stream && answer.status < 400;
        let mut stream = Stream::default();
        let mut splitter = EventSplitter::default();
        let mut body = answer.body.into_data_stream();
        while let Some(Ok(chunk)) = body.next().await {
            if !read {
                continue;
            }
            for event in splitter.push(&chunk) {
                let Some(data) = sse::data(&event) else {
                    continue;
                };
                let Some(text) = stream.event(plan.endpoint, &data).filter(|t| !t.is_empty())
                else {
                    continue;
                };
                first_token.get_or_insert_with(|| started.elapsed());
                delta(text);
            }
        }
        if answer.status < 400 && first_token.is_none() {
            first_token = Some(started.elapsed());
        }
    }
    let mut span = stored(app, &plan.session_id, &span_id).await?;
    if let Some(t) = first_token {
        let ms = t.as_secs_f64() * 1e3;
        let attributes = Map::from_iter([(runs::FIRST_TOKEN_MS.to_owned(), ms.into())]);
        span.attributes.extend(attributes.clone());
        app.store
            .append(vec![Message::SpanUpdate(SpanUpdate {
                session_id: plan.session_id.clone(),
                span_id,
                seq: None,
                at: None,
                output_delta: None,
                input: None,
                output: None,
                usage: None,
                attributes: Some(attributes),
                scores: None,
            })])
            .await?;
    }
    Ok(Run::of(
        span,
        plan.original.as_ref().map(|o| &o.call.answer),
    ))
}

/// The run's span once the recorder has stored its end.
async fn stored(app: &AppState, session_id: &str, span_id: &str) -> Result<SpanDetail, ApiError> {
    let deadline = Instant::now() + STORED_WITHIN;
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(span) = app.store.span(session_id, span_id).await?
            && span.summary.status != SpanStatus::Running
        {
            return Ok(span);
        }
        if Instant::now() > deadline {
            return Err(ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "run_not_recorded",
                format!(
                    "the run {span_id:?} was sent, but its record was not stored within {}s \
                     (see GET /api/v1/refusals)",
                    STORED_WITHIN.as_secs()
                ),
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}
