//! Text search in JSON payloads, as the page's search box means it: a string or key that
//! contains the text, ignoring case (numbers are not text).

use serde_json::Value;

/// Whether a string or key anywhere in `v` contains `needle` (already lower case).
pub fn holds(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.to_lowercase().contains(needle),
        Value::Array(items) => items.iter().any(|x| holds(x, needle)),
        Value::Object(map) => map
            .iter()
            .any(|(k, x)| k.to_lowercase().contains(needle) || holds(x, needle)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::holds;
    use serde_json::json;

    #[test]
    fn text_is_found_in_nested_strings_and_keys_ignoring_case() {
        let v = json!([{"role": "user", "content": [{"type": "text", "text": "Open the VAULT"}]}, {"safe": 3}]);
        assert!(holds(&v, "the vault"));
        assert!(holds(&v, "safe"));
        assert!(!holds(&v, "3"), "numbers are not text");
        assert!(!holds(&v, "garage"));
    }
}
