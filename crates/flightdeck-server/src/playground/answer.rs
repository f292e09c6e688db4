//! The text and tool calls of an LLM answer, read from any output shape Flightdeck records:
//! a chat message (`content`, `tool_calls`), Anthropic's content blocks (`text`,
//! `tool_use`), the Responses API's output items (`message`, `function_call`), or plain text
//! (SDK and OTLP spans).

use serde::Serialize;
use serde_json::Value;

/// What an answer said.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Answer {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
}

/// One tool call: the tool's name and its arguments (parsed when they were JSON text).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolCall {
    pub name: String,
    pub arguments: Value,
}

impl Answer {
    /// Reads a recorded output.
    pub fn read(output: &Value) -> Answer {
        let mut answer = Answer::default();
        answer.gather(output);
        answer
    }

    fn gather(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.text.push_str(s),
            Value::Array(items) => items.iter().for_each(|i| self.gather(i)),
            Value::Object(o) => match o.get("type").and_then(Value::as_str) {
                Some("function_call") => self.call(o.get("name"), o.get("arguments")),
                Some("tool_use") => self.call(o.get("name"), o.get("input")),
                Some("text" | "output_text") => {
                    if let Some(t) = o.get("text") {
                        self.gather(t);
                    }
                }
                _ => {
                    if let Some(c) = o.get("content") {
                        self.gather(c);
                    }
                    if let Some(Value::Array(calls)) = o.get("tool_calls") {
                        for c in calls {
                            let f = c.get("function").unwrap_or(c);
                            self.call(f.get("name"), f.get("arguments"));
                        }
                    }
                }
            },
            _ => {}
        }
    }

    fn call(&mut self, name: Option<&Value>, arguments: Option<&Value>) {
        let arguments = match arguments {
            Some(Value::String(s)) => {
                serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
            }
            Some(v) => v.clone(),
            None => Value::Null,
        };
        self.tool_calls.push(ToolCall {
            name: name.and_then(Value::as_str).unwrap_or_default().to_owned(),
            arguments,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_recorded_shape_reads_the_same() {
        let call = || ToolCall {
            name: "search".into(),
            arguments: json!({"q": "vault"}),
        };
        let chat = json!({"role": "assistant", "content": "Hi", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{\"q\":\"vault\"}"}}]});
        let anthropic = json!({"role": "assistant", "content": [{"type": "text", "text": "Hi"},
            {"type": "tool_use", "id": "t1", "name": "search", "input": {"q": "vault"}}]});
        let responses = json!([{"type": "message", "role": "assistant", "content": [
            {"type": "output_text", "text": "Hi", "annotations": []}]},
            {"type": "function_call", "call_id": "f1", "name": "search", "arguments": "{\"q\":\"vault\"}"}]);
        for output in [chat, anthropic, responses] {
            assert_eq!(
                Answer::read(&output),
                Answer {
                    text: "Hi".into(),
                    tool_calls: vec![call()]
                },
                "{output}"
            );
        }
        assert_eq!(Answer::read(&json!("plain")).text, "plain");
    }
}
