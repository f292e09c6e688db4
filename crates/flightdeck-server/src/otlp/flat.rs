//! Flattened attribute keys back into JSON trees.
//!
//! OpenInference and Traceloop spell lists as indexed keys, since OTel attributes cannot nest:
//! `llm.input_messages.0.message.role`, `gen_ai.completion.1.tool_calls.0.name`. Taking every
//! key under a prefix and rebuilding the tree (numeric segments as array positions) lets the
//! conventions read messages as plain JSON.

use flightdeck_model::Attributes;
use serde_json::Value;

/// Removes every key under `prefix` (a key `prefix.rest`) from `attrs` and returns them as one
/// tree, or `None` when there are none. A gap in the indices leaves a `null`.
pub fn take_tree(attrs: &mut Attributes, prefix: &str) -> Option<Value> {
    let keys: Vec<String> = attrs
        .keys()
        .filter(|k| {
            k.strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
        })
        .cloned()
        .collect();
    if keys.is_empty() {
        return None;
    }
    let mut root = Value::Null;
    for key in keys {
        let value = attrs.remove(&key).unwrap_or(Value::Null);
        insert(&mut root, key[prefix.len() + 1..].split('.'), value);
    }
    Some(root)
}

fn insert<'a>(node: &mut Value, mut path: impl Iterator<Item = &'a str>, value: Value) {
    let Some(segment) = path.next() else {
        *node = value;
        return;
    };
    let child = match segment.parse::<usize>() {
        // Indices are small in practice; a huge one is treated as a key, not a huge array.
        Ok(i) if i < 10_000 => {
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            let list = node.as_array_mut().expect("made an array above");
            if list.len() <= i {
                list.resize(i + 1, Value::Null);
            }
            &mut list[i]
        }
        _ => {
            if !node.is_object() {
                *node = Value::Object(Default::default());
            }
            node.as_object_mut()
                .expect("made an object above")
                .entry(segment)
                .or_insert(Value::Null)
        }
    };
    insert(child, path, value);
}

/// The string at `path` (dot-separated object keys) inside `v`.
pub fn str_at<'v>(v: &'v Value, path: &str) -> Option<&'v str> {
    at(v, path)?.as_str()
}

/// The value at `path` (dot-separated object keys) inside `v`.
pub fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn indexed_keys_become_lists_and_objects() {
        let mut attrs = json!({
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "You plan heists.",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.contents.0.message_content.text": "hi",
            "llm.input_messages_count": 2,
            "llm.model_name": "gpt-4o"
        })
        .as_object()
        .unwrap()
        .clone();
        let tree = take_tree(&mut attrs, "llm.input_messages").unwrap();
        assert_eq!(
            tree,
            json!([
                {"message": {"role": "system", "content": "You plan heists."}},
                {"message": {"role": "user", "contents": [{"message_content": {"text": "hi"}}]}}
            ])
        );
        assert_eq!(attrs.len(), 2, "other keys stay: {attrs:?}");
        assert_eq!(str_at(&tree[1], "message.role"), Some("user"));
        assert_eq!(take_tree(&mut attrs, "llm.output_messages"), None);
    }

    #[test]
    fn gaps_leave_nulls() {
        let mut attrs = json!({"p.2.x": 1}).as_object().unwrap().clone();
        assert_eq!(
            take_tree(&mut attrs, "p").unwrap(),
            json!([null, null, {"x": 1}])
        );
    }
}
