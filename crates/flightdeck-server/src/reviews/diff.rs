//! A line diff of an edited output against the original, for the record and the page.
//!
//! Both outputs are printed the same way (JSON pretty-printed, a JSON string as its text) and
//! compared line by line (longest common subsequence). Lines start with `  ` (kept), `- `
//! (removed) or `+ ` (added).

use serde_json::Value;
use serde_json::value::RawValue;

/// Beyond this many line pairs the diff is not searched: every old line is removed and every
/// new one added.
const MAX_CELLS: usize = 4_000_000;

/// The diff from `before` to `after`.
pub fn diff(before: &RawValue, after: &RawValue) -> String {
    let (a, b) = (printed(before), printed(after));
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = String::new();
    let mut line = |mark: &str, text: &str| {
        out.push_str(mark);
        out.push_str(text);
        out.push('\n');
    };
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        a.iter().for_each(|l| line("- ", l));
        b.iter().for_each(|l| line("+ ", l));
        return out;
    }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let width = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            line("  ", a[i]);
            i += 1;
            j += 1;
        } else if i < a.len()
            && (j == b.len() || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])
        {
            line("- ", a[i]);
            i += 1;
        } else {
            line("+ ", b[j]);
            j += 1;
        }
    }
    out
}

/// A JSON string as its text, anything else pretty-printed.
fn printed(raw: &RawValue) -> String {
    match serde_json::from_str::<Value>(raw.get()) {
        Ok(Value::String(s)) => s,
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| raw.get().to_owned()),
        Err(_) => raw.get().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn text_lines_are_kept_removed_and_added() {
        let d = diff(&raw(r#""a\nb\nc""#), &raw(r#""a\nB\nc\nd""#));
        assert_eq!(d, "  a\n- b\n+ B\n  c\n+ d\n");
    }

    #[test]
    fn json_is_compared_pretty_printed() {
        let d = diff(&raw(r#"{"x":1,"y":2}"#), &raw(r#"{"x":1,"y":3}"#));
        assert!(
            d.contains("-   \"y\": 2") && d.contains("+   \"y\": 3"),
            "{d}"
        );
        assert!(d.contains("    \"x\": 1,"), "{d}");
    }
}
