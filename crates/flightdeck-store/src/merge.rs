//! How messages about one span, session or agent combine into its stored state.
//!
//! Messages may arrive out of order and more than once; these rules make the result the same
//! as one ordered delivery. First-wins for facts that never change (start and end times),
//! end-wins for outcomes (status, final usage), key-wise union for scores and attributes.
//! The functions here are pure: the writer loads the state, applies messages, writes it back.

use flightdeck_model::record::{SessionStatus, Totals, cost_unknown};
use flightdeck_model::{
    Attributes, Budget, Pricing, Scores, SessionOutcome, SpanKind, SpanOutcome, SpanView,
    Timestamp, Usage,
};

/// The hot (non-payload) state of a span, as stored in its row.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanState {
    pub trace_id: Option<String>,
    pub parent_id: Option<String>,
    pub kind: Option<SpanKind>,
    pub name: Option<String>,
    pub agent: Option<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub status: Option<SpanOutcome>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub usage: Option<Usage>,
    pub usage_final: bool,
    pub cost_usd: Option<f64>,
    pub cost_given: bool,
    pub error: Option<String>,
    pub scores: Scores,
    /// Whether a final output is stored (then streamed chunks are no longer kept).
    pub has_output: bool,
}

impl SpanState {
    /// Applies what one message says of the span. Payloads, attributes and chunks are written
    /// by the caller. Usage that comes with an outcome (an end) is final; usage so far (an
    /// update) never replaces it.
    pub fn apply(&mut self, p: &SpanView<'_>, pricing: &Pricing) {
        let usage_final = p.outcome.is_some();
        set(&mut self.trace_id, p.trace_id);
        set(&mut self.parent_id, p.parent_id);
        if p.kind.is_some() {
            self.kind = p.kind;
        }
        set(&mut self.name, p.name);
        set(&mut self.agent, p.agent);
        set(&mut self.model, p.model);
        set(&mut self.provider, p.provider);
        self.started_at = self.started_at.or(p.started_at);
        self.ended_at = self.ended_at.or(p.ended_at);
        if p.outcome.is_some() {
            self.status = p.outcome;
        }
        if let Some(u) = p.usage
            && (usage_final || !self.usage_final)
        {
            self.usage = Some(u);
            self.usage_final |= usage_final;
        }
        if let Some(c) = p.cost_usd {
            self.cost_usd = Some(c);
            self.cost_given = true;
        }
        set(&mut self.error, p.error);
        if let Some(s) = p.scores {
            self.scores.extend(s.iter().map(|(k, v)| (k.clone(), *v)));
        }
        self.has_output |= p.output.is_some();
        if !self.cost_given
            && let (Some(model), Some(usage)) = (&self.model, &self.usage)
        {
            self.cost_usd = pricing.cost(model, usage);
        }
    }

    /// Whether anything but updates named the span: a span known only from `span.update`s
    /// (log records that came before their span, say) is not listed or counted until its
    /// start, end or kind arrives.
    pub fn is_known(&self) -> bool {
        self.kind.is_some() || self.started_at.is_some() || self.ended_at.is_some()
    }

    /// Takes from `other`, the same span filed elsewhere, what this state does not know: the
    /// merge of two sessions that both hold it.
    pub fn absorb(&mut self, other: &SpanState) {
        let fill = |slot: &mut Option<String>, v: &Option<String>| {
            if slot.is_none() {
                slot.clone_from(v);
            }
        };
        fill(&mut self.trace_id, &other.trace_id);
        fill(&mut self.parent_id, &other.parent_id);
        fill(&mut self.name, &other.name);
        fill(&mut self.agent, &other.agent);
        fill(&mut self.model, &other.model);
        fill(&mut self.provider, &other.provider);
        fill(&mut self.error, &other.error);
        self.kind = self.kind.or(other.kind);
        self.status = self.status.or(other.status);
        self.started_at = match (self.started_at, other.started_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.ended_at = self.ended_at.or(other.ended_at);
        if other.usage.is_some() && (other.usage_final || self.usage.is_none()) && !self.usage_final
        {
            self.usage = other.usage;
            self.usage_final = other.usage_final;
        }
        if !self.cost_given && (other.cost_given || self.cost_usd.is_none()) {
            self.cost_usd = other.cost_usd;
            self.cost_given = other.cost_given;
        }
        for (k, v) in &other.scores {
            self.scores.entry(k.clone()).or_insert(*v);
        }
        self.has_output |= other.has_output;
    }

    /// What this span adds to its session's and agent's totals.
    pub fn contribution(&self) -> Totals {
        if !self.is_known() {
            return Totals::default();
        }
        let usage = self.usage.unwrap_or_default();
        Totals {
            spans: 1,
            llm_calls: (self.kind == Some(SpanKind::Llm)) as i64,
            tool_calls: (self.kind == Some(SpanKind::Tool)) as i64,
            errors: (self.status == Some(SpanOutcome::Error)) as i64,
            input_tokens: usage.input_tokens as i64,
            output_tokens: usage.output_tokens as i64,
            cost_usd: self.cost_usd.unwrap_or(0.0),
            unpriced_llm_calls: cost_unknown(
                self.kind,
                self.cost_usd,
                self.usage.is_some(),
                self.status == Some(SpanOutcome::Ok),
            ) as i64,
        }
    }
}

fn set(slot: &mut Option<String>, value: Option<&str>) {
    if let Some(v) = value
        && slot.as_deref() != Some(v)
    {
        *slot = Some(v.to_owned());
    }
}

/// The stored state of a session.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionState {
    pub name: Option<String>,
    pub status: SessionStatus,
    pub started_at: Timestamp,
    /// True once `session.start` gave the start time; before that it is the earliest seen.
    pub has_start: bool,
    pub ended_at: Option<Timestamp>,
    pub tags: Vec<String>,
    pub metadata: Attributes,
    pub budget: Option<Budget>,
    pub error: Option<String>,
    pub totals: Totals,
    /// Some span of it carries a trace id: it ends when idle ([`SessionState::end_idle`]).
    pub traced: bool,
    /// Ended by the idle rule, not by `session.end`: a later span reopens it.
    pub idle_ended: bool,
}

impl SessionState {
    /// A session first heard of at `seen` (by any message).
    pub fn new(seen: Timestamp) -> Self {
        SessionState {
            name: None,
            status: SessionStatus::Running,
            started_at: seen,
            has_start: false,
            ended_at: None,
            tags: Vec::new(),
            metadata: Attributes::new(),
            budget: None,
            error: None,
            totals: Totals::default(),
            traced: false,
            idle_ended: false,
        }
    }

    /// Applies `session.start`.
    pub fn start(
        &mut self,
        name: Option<&str>,
        started_at: Timestamp,
        tags: &[String],
        metadata: &Option<Attributes>,
        budget: &Option<Budget>,
    ) {
        set(&mut self.name, name);
        if !self.has_start {
            self.started_at = started_at;
            self.has_start = true;
        }
        for t in tags {
            if !self.tags.contains(t) {
                self.tags.push(t.clone());
            }
        }
        if let Some(m) = metadata {
            self.metadata
                .extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if budget.is_some() {
            self.budget.clone_from(budget);
        }
    }

    /// Applies `session.end`.
    pub fn end(&mut self, ended_at: Timestamp, outcome: SessionOutcome, error: Option<&str>) {
        self.status = match outcome {
            SessionOutcome::Completed => SessionStatus::Completed,
            SessionOutcome::Failed => SessionStatus::Failed,
        };
        self.ended_at = self.ended_at.or(Some(ended_at));
        self.idle_ended = false;
        set(&mut self.error, error);
    }

    /// Ends a session that went quiet with every span ended, at its last span's end; unlike
    /// `session.end`, a later span reopens it ([`SessionState::saw_span`]).
    pub fn end_idle(&mut self, last_end: Timestamp, outcome: SessionOutcome, error: Option<&str>) {
        self.end(last_end, outcome, error);
        self.ended_at = Some(last_end);
        self.idle_ended = true;
    }

    /// Notes a span that started or ended at `at`: one later than an idle end reopens the
    /// session. (An explicit `session.end` is final.)
    pub fn saw_span(&mut self, at: Option<Timestamp>, traced: bool) {
        self.traced |= traced;
        if let (true, Some(at), Some(end)) = (self.idle_ended, at, self.ended_at)
            && at > end
        {
            self.status = SessionStatus::Running;
            self.ended_at = None;
            self.error = None;
            self.idle_ended = false;
        }
    }

    /// Takes in `other`, a session moved into this one: its totals, and what this one does
    /// not say itself (name, tags, metadata, an earlier start while neither was started
    /// explicitly).
    pub fn absorb(&mut self, other: &SessionState) {
        if self.name.is_none() {
            self.name.clone_from(&other.name);
        }
        match (self.has_start, other.has_start) {
            (false, true) => {
                self.started_at = other.started_at;
                self.has_start = true;
            }
            (false, false) => self.started_at = self.started_at.min(other.started_at),
            _ => {}
        }
        for t in &other.tags {
            if !self.tags.contains(t) {
                self.tags.push(t.clone());
            }
        }
        for (k, v) in &other.metadata {
            self.metadata.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if self.budget.is_none() {
            self.budget.clone_from(&other.budget);
        }
        self.totals.add(&other.totals, 1);
        self.traced |= other.traced;
    }

    /// Notes activity at `at`: until `session.start` arrives, the start is the earliest seen.
    pub fn saw(&mut self, at: Option<Timestamp>) {
        if let Some(at) = at
            && !self.has_start
            && at < self.started_at
        {
            self.started_at = at;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> SpanView<'static> {
        SpanView {
            kind: Some(SpanKind::Llm),
            name: Some("decompose"),
            agent: Some("planner"),
            model: Some("gpt-4o"),
            started_at: Some(Timestamp(1_000)),
            ..Default::default()
        }
    }

    fn update(input: u64) -> SpanView<'static> {
        SpanView {
            usage: Some(Usage {
                input_tokens: input,
                output_tokens: 1,
            }),
            ..Default::default()
        }
    }

    fn end() -> SpanView<'static> {
        SpanView {
            ended_at: Some(Timestamp(3_000)),
            outcome: Some(SpanOutcome::Error),
            usage: Some(Usage {
                input_tokens: 1_000_000,
                output_tokens: 0,
            }),
            error: Some("boom"),
            ..Default::default()
        }
    }

    fn fold(patches: &[&SpanView<'_>]) -> SpanState {
        let pricing = Pricing::built_in();
        let mut s = SpanState::default();
        for p in patches {
            s.apply(p, &pricing);
        }
        s
    }

    #[test]
    fn every_order_and_any_repetition_gives_the_same_state() {
        let (s, u, e) = (start(), update(5), end());
        let ordered = fold(&[&s, &u, &e]);
        assert_eq!(ordered.status, Some(SpanOutcome::Error));
        assert_eq!(ordered.usage.unwrap().input_tokens, 1_000_000);
        assert!(
            (ordered.cost_usd.unwrap() - 2.5).abs() < 1e-9,
            "priced from the table"
        );
        for order in [
            vec![&e, &s, &u],
            vec![&u, &e, &s],
            vec![&e, &u, &s, &e],
            vec![&s, &s, &u, &e, &u],
        ] {
            assert_eq!(fold(&order), ordered);
        }
    }

    #[test]
    fn running_until_ended_and_client_cost_wins() {
        let s = fold(&[&start(), &update(7)]);
        assert_eq!(s.status, None);
        assert_eq!(s.usage.unwrap().input_tokens, 7);
        let given = SpanView {
            cost_usd: Some(0.5),
            ..end()
        };
        assert_eq!(fold(&[&start(), &given]).cost_usd, Some(0.5));
        assert_eq!(fold(&[&given, &start()]).cost_usd, Some(0.5));
    }

    #[test]
    fn contribution_counts_kinds_errors_and_tokens() {
        let c = fold(&[&start(), &end()]).contribution();
        assert_eq!((c.spans, c.llm_calls, c.tool_calls, c.errors), (1, 1, 0, 1));
        assert_eq!(c.input_tokens, 1_000_000);
    }

    #[test]
    fn a_span_known_only_from_updates_counts_for_nothing() {
        let hidden = fold(&[&update(5)]);
        assert!(!hidden.is_known());
        assert!(hidden.contribution().is_zero());
        assert_eq!(fold(&[&update(5), &start()]).contribution().spans, 1);
    }

    #[test]
    fn absorbing_the_same_span_fills_what_is_missing() {
        let mut a = fold(&[&update(5)]);
        a.has_output = true;
        let b = fold(&[&start(), &end()]);
        let mut merged = a.clone();
        merged.absorb(&b);
        assert_eq!(merged.kind, Some(SpanKind::Llm));
        assert_eq!(merged.name.as_deref(), Some("decompose"));
        assert_eq!(
            merged.usage.unwrap().input_tokens,
            1_000_000,
            "final usage wins"
        );
        assert!(merged.has_output && merged.usage_final);
        let mut other_way = b.clone();
        other_way.absorb(&a);
        assert_eq!(other_way.contribution(), merged.contribution());
    }

    #[test]
    fn an_idle_end_is_reopened_by_a_later_span_only() {
        let mut s = SessionState::new(Timestamp(10));
        s.saw_span(Some(Timestamp(10)), true);
        s.end_idle(Timestamp(90), SessionOutcome::Failed, Some("boom"));
        assert_eq!(
            (s.status, s.ended_at),
            (SessionStatus::Failed, Some(Timestamp(90)))
        );
        s.saw_span(Some(Timestamp(80)), true);
        assert_eq!(
            s.status,
            SessionStatus::Failed,
            "an earlier span is late news"
        );
        s.saw_span(Some(Timestamp(95)), true);
        assert_eq!(
            (s.status, s.ended_at, s.error.as_deref()),
            (SessionStatus::Running, None, None)
        );
        s.end(Timestamp(99), SessionOutcome::Completed, None);
        s.saw_span(Some(Timestamp(120)), true);
        assert_eq!(s.status, SessionStatus::Completed, "session.end is final");
    }

    #[test]
    fn a_moved_session_adds_its_totals_and_fills_gaps() {
        let mut named = SessionState::new(Timestamp(50));
        named.totals.spans = 1;
        let mut provisional = SessionState::new(Timestamp(20));
        provisional.totals.spans = 3;
        provisional.traced = true;
        named.absorb(&provisional);
        assert_eq!((named.started_at, named.totals.spans), (Timestamp(20), 4));
        assert!(named.traced);
    }

    #[test]
    fn session_start_time_is_explicit_or_earliest_seen() {
        let mut s = SessionState::new(Timestamp(50));
        s.saw(Some(Timestamp(40)));
        assert_eq!(s.started_at, Timestamp(40));
        s.start(Some("x"), Timestamp(45), &[], &None, &None);
        s.saw(Some(Timestamp(10)));
        assert_eq!(s.started_at, Timestamp(45));
        s.end(Timestamp(90), SessionOutcome::Failed, None);
        s.start(None, Timestamp(45), &[], &None, &None);
        assert_eq!(s.status, SessionStatus::Failed);
    }
}
