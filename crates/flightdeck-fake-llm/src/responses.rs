//! The OpenAI Responses API (`POST /v1/responses`): a whole response, or its stream of
//! typed events (`response.created`, `response.output_text.delta` or
//! `response.function_call_arguments.delta`, `response.completed` with the whole response).

use super::{ANSWER, Fake, failure, sse, tools};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub async fn responses(
    State(fake): State<Fake>,
    headers: HeaderMap,
    Json(req): Json<Value>,
) -> Response {
    fake.arrive(&headers, &req).await;
    let model = req["model"].as_str().unwrap_or("gpt-4o").to_owned();
    if let Some(r) = failure(&model) {
        return r;
    }
    let id = fake.response_id("resp_fake", '_');
    let call = tools::call_for(&req);
    let item = match &call {
        Some(c) => tools::responses_item(c),
        None => json!({"type": "message", "id": "msg_fake_1", "status": "completed",
            "role": "assistant", "content": [{"type": "output_text", "text": ANSWER.concat(),
            "annotations": []}]}),
    };
    let whole = |status: &str, output: Value, usage: Value| {
        json!({"id": id, "object": "response", "created_at": 1_700_000_000, "status": status,
            "model": model, "output": output, "usage": usage})
    };
    let usage = json!({"input_tokens": 11, "output_tokens": 7, "total_tokens": 18});
    if req["stream"].as_bool() != Some(true) {
        return Json(whole("completed", json!([item]), usage)).into_response();
    }
    let style = fake.options.style;
    let event = |data: Value| {
        let name = data["type"].as_str().unwrap_or_default().to_owned();
        style.event(Some(&name), &style.json(&data))
    };
    let mut events = vec![event(json!({"type": "response.created",
        "response": whole("in_progress", json!([]), Value::Null)}))];
    match &call {
        Some(c) => {
            let (a, b) = c.arguments.split_at(c.arguments.len() / 2);
            events.extend([a, b].into_iter().map(|p| {
                event(json!({"type": "response.function_call_arguments.delta",
                    "item_id": "fc_fake_1", "output_index": 0, "delta": p}))
            }));
        }
        None => events.extend(ANSWER.iter().map(|t| {
            event(
                json!({"type": "response.output_text.delta", "item_id": "msg_fake_1",
                "output_index": 0, "content_index": 0, "delta": t}),
            )
        })),
    }
    events.push(event(json!({"type": "response.completed",
        "response": whole("completed", json!([item]), usage)})));
    sse(fake.options, events, model == "cut-stream")
}
