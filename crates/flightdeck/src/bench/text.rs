//! Deterministic, realistic-looking benchmark payloads: LLM spans whose prompts and answers
//! are prose-like text of 1 to 4 KB, which compresses about as well as real LLM traffic
//! (neither a repeated string, which compresses to nothing, nor random bytes).

/// A small xorshift generator: deterministic, dependency-free, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo) as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "the",
    "agent",
    "plan",
    "tool",
    "call",
    "result",
    "vault",
    "camera",
    "guard",
    "code",
    "function",
    "returns",
    "error",
    "retry",
    "context",
    "user",
    "asked",
    "to",
    "find",
    "a",
    "file",
    "in",
    "repository",
    "and",
    "then",
    "summarise",
    "changes",
    "for",
    "review",
    "step",
    "first",
    "second",
    "next",
    "finally",
    "we",
    "should",
    "check",
    "whether",
    "the",
    "test",
    "suite",
    "passes",
    "after",
    "patch",
    "is",
    "applied",
    "because",
    "model",
    "output",
    "was",
    "incomplete",
    "so",
    "I",
    "will",
    "query",
    "database",
    "with",
    "filter",
    "on",
    "status",
    "timeout",
    "seconds",
    "latency",
    "budget",
    "tokens",
    "cost",
    "safe",
    "combination",
    "door",
    "floor",
    "elevator",
    "schedule",
    "shift",
    "change",
    "at",
    "midnight",
    "hacker",
    "planner",
    "safecracker",
    "mole",
    "orchestrator",
    "delegates",
    "subtask",
    "merge",
    "answers",
    "from",
    "parallel",
    "workers",
    "embedding",
    "search",
    "returned",
    "documents",
    "relevant",
    "score",
    "above",
    "threshold",
    "below",
    "update",
    "branch",
    "commit",
    "message",
    "describes",
    "fix",
    "null",
    "pointer",
    "handler",
    "request",
    "response",
    "JSON",
    "schema",
    "field",
    "missing",
    "required",
    "value",
    "string",
    "number",
    "list",
    "of",
    "items",
    "each",
    "has",
    "id",
    "name",
];

/// About `bytes` of prose-like text.
pub fn prose(rng: &mut Rng, bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 16);
    while s.len() < bytes {
        if rng.next().is_multiple_of(23) {
            s.push_str(&format!("{} ", rng.next() % 100_000));
        } else {
            s.push_str(WORDS[rng.range(0, WORDS.len())]);
            s.push(if rng.next().is_multiple_of(11) {
                '.'
            } else {
                ' '
            });
        }
    }
    s
}

/// One finished LLM span as a wire message (one NDJSON line), 1 to 4 KB of payload.
pub fn llm_span(rng: &mut Rng, session: usize, span: usize) -> String {
    let (system_len, user_len, answer_len) = (
        rng.range(200, 600),
        rng.range(400, 2400),
        rng.range(200, 1000),
    );
    let system = prose(rng, system_len);
    let user = prose(rng, user_len);
    let answer = prose(rng, answer_len);
    let start = 1_795_000_000_000_000_000i64 + (span as i64) * 1_000_000;
    let agent = ["planner", "hacker", "coder", "reviewer"][span % 4];
    let model = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4"][span % 3];
    let value = serde_json::json!({
        "type": "span",
        "session_id": format!("bench-{session}"),
        "span_id": format!("span-{span}"),
        "parent_id": format!("span-{}", span.saturating_sub(1 + span % 7)),
        "kind": "llm",
        "name": "chat",
        "agent": agent,
        "model": model,
        "started_at": start,
        "ended_at": start + 800_000_000,
        "input": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "output": answer,
        "params": {"temperature": 0.2, "max_tokens": 1024},
        "usage": {"input_tokens": (system.len() + user.len()) / 4, "output_tokens": answer.len() / 4},
    });
    value.to_string()
}
