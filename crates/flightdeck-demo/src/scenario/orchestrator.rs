//! The orchestrator: decomposes a research task into subtasks, fans them out to sub-agents
//! running in parallel (independent ones first, then those that depend on them), reassigns
//! a failed subtask once, and merges the findings.

use crate::ctx::{Ctx, round3};
use crate::llm::{self, CLAUDE_SONNET_4, GPT_4O, GPT_4O_MINI, Model, Reply, prompt};
use crate::tools::{self, FETCH_URL, RUN_PYTHON, WEB_SEARCH};
use flightdeck_sdk::{Agent, AgentState, EdgeKind, Level, Span, SpanKind};
use serde_json::json;
use tokio::task::JoinSet;

pub(super) const TOPICS: &[&str] = &[
    "the vector database market in 2026",
    "EU AI Act duties for customer chatbots",
    "battery supply-chain risks for 2027",
    "churn drivers in the Q3 customer cohort",
    "moving a monolith to event sourcing",
];

/// Sub-agents: name, role, model.
const WORKERS: &[(&str, &str, &Model)] = &[
    ("researcher", "web researcher", &GPT_4O_MINI),
    ("analyst", "data analyst", &GPT_4O),
    ("fact_checker", "fact checker", &GPT_4O_MINI),
    ("critic", "critic", &CLAUDE_SONNET_4),
    ("summarizer", "summarizer", &GPT_4O_MINI),
    ("domain_expert", "domain expert", &CLAUDE_SONNET_4),
];

const ANGLES: &[&str] = &[
    "market size and growth",
    "the main players and how they differ",
    "regulatory constraints",
    "technical risks",
    "costs and pricing",
    "evidence from customers",
    "open questions",
];

/// The chance that a sub-agent's analysis is rejected (beyond its tools failing).
const REJECTED: f64 = 0.12;

/// One subtask, owned by the task that works on it.
struct Subtask {
    index: usize,
    topic: String,
    angle: &'static str,
    worker: Agent,
    model: &'static Model,
    span_id: String,
    orchestrator: Agent,
    orchestrator_span: String,
    /// The subtasks this one builds on: span id and angle.
    depends_on: Vec<(String, &'static str)>,
}

pub(super) async fn run(ctx: &mut Ctx, topic: &str) -> Result<(), String> {
    let orchestrator = ctx.join("orchestrator", "orchestrator", GPT_4O.name);
    let count = ctx.dice.int(3..=5) as usize;
    let crew = ctx.dice.sample(WORKERS, count);
    let angles = ctx.dice.sample(ANGLES, count);
    let workers: Vec<Agent> = crew
        .iter()
        .map(|(name, role, model)| ctx.join(name, role, model.name))
        .collect();
    ctx.wait(200.0, 800.0).await;
    for worker in &workers {
        worker.status(AgentState::Idle);
    }

    orchestrator.active("decompose the task");
    let root = ctx
        .root(SpanKind::Agent, format!("orchestrate: {topic}"))
        .agent(orchestrator.name())
        .input(&json!({"task": format!("Write a briefing on {topic}")}))
        .start();
    let independent = count.div_ceil(2);
    let mut depends: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (i, deps) in depends.iter_mut().enumerate().skip(independent) {
        let n = ctx.dice.int(1..=2.min(independent as u64)) as usize;
        *deps = ctx.dice.sample(&(0..independent).collect::<Vec<_>>(), n);
        deps.sort_unstable();
        debug_assert!(deps.iter().all(|&d| d < i));
    }
    let listing: Vec<String> = angles
        .iter()
        .zip(&crew)
        .enumerate()
        .map(|(i, (angle, (name, ..)))| format!("{}. {angle} ({name})", i + 1))
        .collect();
    let text = format!(
        "I'll split the briefing on {topic} into {count} subtasks: {}. The later ones build on \
         the first {independent}, so those run first, in parallel.",
        listing.join("; ")
    );
    let messages = prompt(
        "You are an orchestrator. Decompose the task into independent subtasks and assign each to the best sub-agent.",
        &format!(
            "Task: write a briefing on {topic}. Available sub-agents: {}.",
            crew.iter().map(|c| c.0).collect::<Vec<_>>().join(", ")
        ),
    );
    if let Err(e) = llm::call(
        ctx,
        &root,
        "decompose",
        &GPT_4O,
        messages,
        &Reply::text(text),
    )
    .await
    {
        ctx.fail_turn(root, &orchestrator, &e);
        return Err(format!("decomposition failed: {e}"));
    }
    let plan: Vec<_> = (0..count)
        .map(|i| {
            let needs: Vec<&str> = depends[i].iter().map(|&d| angles[d]).collect();
            json!({"subtask": angles[i], "agent": crew[i].0, "depends_on": needs})
        })
        .collect();
    ctx.decision(
        &root,
        Level::Info,
        "decomposition",
        &format!("{count} subtasks, {independent} in parallel first"),
        &json!(plan),
    );

    let span_ids: Vec<String> = (0..count).map(|_| ctx.id()).collect();
    let mut quality: Vec<Option<f64>> = vec![None; count];
    let waves = [
        (0..independent).collect::<Vec<_>>(),
        (independent..count).collect(),
    ];
    for wave in waves.iter().filter(|w| !w.is_empty()) {
        orchestrator
            .update()
            .status(AgentState::Idle)
            .task(format!("waiting for {} sub-agents", wave.len()))
            .send();
        ctx.session
            .metric("workers.active", wave.len() as f64)
            .unit("agents")
            .send();
        let mut running = JoinSet::new();
        for &i in wave {
            let task = Subtask {
                index: i,
                topic: topic.to_owned(),
                angle: angles[i],
                worker: workers[i].clone(),
                model: crew[i].2,
                span_id: span_ids[i].clone(),
                orchestrator: orchestrator.clone(),
                orchestrator_span: root.id().to_owned(),
                depends_on: depends[i]
                    .iter()
                    .map(|&d| (span_ids[d].clone(), angles[d]))
                    .collect(),
            };
            running.spawn(subtask(ctx.fork(), task));
        }
        let mut outcomes: Vec<(usize, Result<f64, String>)> = Vec::new();
        while let Some(joined) = running.join_next().await {
            outcomes.push(joined.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())));
        }
        outcomes.sort_by_key(|(i, _)| *i);
        ctx.session
            .metric("workers.active", 0.0)
            .unit("agents")
            .send();
        for (i, outcome) in outcomes {
            quality[i] = match outcome {
                Ok(q) => Some(q),
                Err(e) => {
                    reassign(
                        ctx,
                        &root,
                        &orchestrator,
                        &workers,
                        &crew,
                        i,
                        topic,
                        angles[i],
                        &e,
                    )
                    .await
                }
            };
        }
    }

    orchestrator.active("merge the findings");
    let missing: Vec<&str> = (0..count)
        .filter(|&i| quality[i].is_none())
        .map(|i| angles[i])
        .collect();
    let merged = merge(ctx, &root, topic, &angles, &missing).await;
    if let Err(e) = merged {
        ctx.fail_turn(root, &orchestrator, &e);
        return Err(e);
    }
    if missing.len() > 1 {
        let why = format!("briefing incomplete: no findings on {}", missing.join(", "));
        ctx.fail_turn(root, &orchestrator, &why);
        return Err(why);
    }
    let covered = quality.iter().flatten().count();
    let briefing = format!("Briefing on {topic}");
    root.set_output(&json!({"briefing": briefing, "sections": covered, "missing": missing}));
    ctx.end_turn(root, &orchestrator);
    Ok(())
}

/// A failed subtask goes to another sub-agent once; its quality, or `None` if it failed again.
#[expect(
    clippy::too_many_arguments,
    reason = "a private step of `run`, which owns these"
)]
async fn reassign(
    ctx: &mut Ctx,
    root: &Span,
    orchestrator: &Agent,
    workers: &[Agent],
    crew: &[(&'static str, &'static str, &'static Model)],
    index: usize,
    topic: &str,
    angle: &'static str,
    error: &str,
) -> Option<f64> {
    let others: Vec<usize> = (0..workers.len()).filter(|&w| w != index).collect();
    let to = *ctx.dice.pick(&others);
    ctx.decision(
        root,
        Level::Warn,
        "plan_revision",
        &format!(
            "{angle}: {} failed ({error}); reassigning to {}",
            workers[index].name(),
            workers[to].name()
        ),
        &json!({"subtask": angle, "from": workers[index].name(), "to": workers[to].name()}),
    );
    let span_id = ctx.id();
    let task = Subtask {
        index,
        topic: topic.to_owned(),
        angle,
        worker: workers[to].clone(),
        model: crew[to].2,
        span_id,
        orchestrator: orchestrator.clone(),
        orchestrator_span: root.id().to_owned(),
        depends_on: Vec::new(),
    };
    match subtask(ctx.fork(), task).await {
        (_, Ok(q)) => Some(q),
        (_, Err(e)) => {
            ctx.log(root, Level::Error, &format!("giving up on {angle}: {e}"));
            None
        }
    }
}

/// A sub-agent researches one angle; returns its index and the quality of its findings.
async fn subtask(mut ctx: Ctx, task: Subtask) -> (usize, Result<f64, String>) {
    let worker = &task.worker;
    worker.active(task.angle);
    let span = ctx
        .under(
            &task.orchestrator_span,
            SpanKind::Agent,
            format!("research: {}", task.angle),
        )
        .id(task.span_id.clone())
        .agent(worker.name())
        .input(&json!({"topic": task.topic, "subtask": task.angle}))
        .start();
    ctx.edge(EdgeKind::Delegation)
        .from_agent(task.orchestrator.name())
        .to_agent(worker.name())
        .from_span(task.orchestrator_span.clone())
        .to_span(span.id())
        .label(task.angle)
        .send();
    for (dep, angle) in &task.depends_on {
        ctx.edge(EdgeKind::DependsOn)
            .from_span(span.id())
            .to_span(dep.clone())
            .label(format!("needs {angle}"))
            .send();
    }
    let result = research(&mut ctx, &span, &task).await;
    let result = match result {
        Ok(()) if ctx.dice.chance(REJECTED) => {
            Err("fact check rejected 2 of 5 citations as unsupported".to_owned())
        }
        other => other,
    };
    match result {
        Ok(()) => {
            let quality = round3(ctx.dice.between(0.55, 0.97));
            span.score("quality", quality);
            ctx.message(
                worker,
                &task.orchestrator,
                &span,
                &format!("findings: {}", task.angle),
            );
            ctx.end_turn(span, worker);
            (task.index, Ok(quality))
        }
        Err(e) => {
            ctx.fail_turn(span, worker, &e);
            (task.index, Err(e))
        }
    }
}

async fn research(ctx: &mut Ctx, span: &Span, task: &Subtask) -> Result<(), String> {
    let query = format!("{} {}", task.topic, task.angle);
    let hits = ctx.dice.int(4..=9);
    let urls: Vec<String> = (0..hits)
        .map(|i| format!("https://example.org/{}/{i}", ctx.dice.hex(6)))
        .collect();
    tools::invoke(
        ctx,
        span,
        &WEB_SEARCH,
        json!({"query": query, "count": hits}),
        json!({"results": urls}),
    )
    .await?;
    let reads = ctx.dice.int(1..=2) as usize;
    for url in urls.iter().take(reads) {
        let words = ctx.dice.int(600..=4000);
        tools::invoke(
            ctx,
            span,
            &FETCH_URL,
            json!({"url": url}),
            json!({"url": url, "words": words}),
        )
        .await?;
    }
    if task.worker.name() == "analyst" {
        let code = "df = load('metrics.csv'); df.groupby('quarter').revenue.sum()";
        tools::invoke(
            ctx,
            span,
            &RUN_PYTHON,
            json!({"code": code}),
            json!({"rows": 4, "stdout": "Q1 4.2M  Q2 4.9M  Q3 5.1M  Q4 5.6M"}),
        )
        .await?;
    }
    let context: Vec<String> = task
        .depends_on
        .iter()
        .map(|(_, a)| format!("the findings on {a}"))
        .collect();
    let builds_on = if context.is_empty() {
        String::new()
    } else {
        format!(" Building on {}.", context.join(" and "))
    };
    let text = format!(
        "On {} for {}: three sources agree on the overall direction, one disagrees on timing.{builds_on} \
         Confidence is moderate; the strongest evidence is the second source, which cites primary data.",
        task.angle, task.topic
    );
    let messages = prompt(
        &format!(
            "You are a {} sub-agent. Answer only your subtask, cite your sources.",
            task.worker.name()
        ),
        &format!(
            "Subtask: {} for a briefing on {}. Sources: {}.",
            task.angle,
            task.topic,
            urls[..reads].join(", ")
        ),
    );
    llm::call(
        ctx,
        span,
        "analyze",
        task.model,
        messages,
        &Reply::text(text),
    )
    .await
}

async fn merge(
    ctx: &mut Ctx,
    root: &Span,
    topic: &str,
    angles: &[&str],
    missing: &[&str],
) -> Result<(), String> {
    let chain = ctx
        .child(root, SpanKind::Chain, "merge findings")
        .input(&json!({"sections": angles}))
        .start();
    let gaps = if missing.is_empty() {
        "Every subtask delivered.".to_owned()
    } else {
        format!("No findings on {}; flagged as a gap.", missing.join(", "))
    };
    let text = format!(
        "Briefing: {topic}. The sections agree on the main trend; the cost and risk sections \
         pull in different directions, reconciled in the summary. {gaps}"
    );
    let messages = prompt(
        "You are an editor. Merge the sub-agents' findings into one consistent briefing.",
        &format!("Merge the findings on {topic}: {}.", angles.join("; ")),
    );
    match llm::call(
        ctx,
        &chain,
        "merge_findings",
        &GPT_4O,
        messages,
        &Reply::text(text),
    )
    .await
    {
        Ok(()) => {
            chain.score("consistency", round3(ctx.dice.between(0.6, 0.95)));
            chain.end();
            Ok(())
        }
        Err(e) => {
            ctx.fail(chain, &e);
            Err(format!("merging failed: {e}"))
        }
    }
}
