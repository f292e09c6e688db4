//! The provider's id of a response, as the proxy sees it: OpenAI's `chatcmpl-...` (chat
//! completions: every chunk's `id`) and `resp_...` (responses: the body's `id`, or
//! `response.id` in its events), Anthropic's `msg_...` (the body's `id`, or `message.id` in
//! `message_start`). OTel instrumentations record the same id as `gen_ai.response.id`; the
//! two reports of one call are joined by it (`crate::calls`).

use serde_json::Value;

/// The response id in a JSON response body or one stream event's data, if it names one.
pub fn read(json: &str) -> Option<String> {
    let v: Value = serde_json::from_str(json).ok()?;
    [
        v.get("id"),
        v.pointer("/message/id"),
        v.pointer("/response/id"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_str)
    .filter(|id| !id.is_empty() && id.len() <= flightdeck_model::decode::MAX_ID_BYTES)
    .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_id_of_each_api() {
        for (json, id) in [
            (
                r#"{"id":"chatcmpl-9","object":"chat.completion.chunk"}"#,
                Some("chatcmpl-9"),
            ),
            (
                r#"{"type":"message_start","message":{"id":"msg_01"}}"#,
                Some("msg_01"),
            ),
            (
                r#"{"type":"response.created","response":{"id":"resp_7"}}"#,
                Some("resp_7"),
            ),
            (r#"{"id":"msg_02","type":"message"}"#, Some("msg_02")),
            (r#"{"type":"content_block_delta"}"#, None),
            (r#"{"object":"list","data":[]}"#, None),
            ("[DONE]", None),
            (r#"{"id":42}"#, None),
        ] {
            assert_eq!(read(json).as_deref(), id, "{json}");
        }
    }
}
