//! The coding pipeline: feature requests arrive in a queue and pass, one at a time, from
//! the request planner (acceptance criteria) to the code planner (RAG over the repository)
//! to the coding agent (git, patch, tests, fix, commit, push). The queue is reported by the
//! protocol's queue convention (docs/protocol.md, "Queues": depth, processing, wait, run
//! time, completed), computed in simulated time so it is reproducible.

use crate::ctx::{Ctx, round3};
use crate::gate::Ask;
use crate::llm::{self, CLAUDE_SONNET_4, GPT_4O_MINI, Reply, prompt};
use crate::tools::{self, APPLY_PATCH, GIT_CHECKOUT, GIT_COMMIT, GIT_PUSH, READ_FILE, RUN_TESTS};
use flightdeck_sdk::{Agent, AgentState, EdgeKind, Level, Span, SpanKind};
use serde_json::{Value, json};

pub(super) const REPOS: &[&str] = &[
    "acme/billing-api",
    "acme/web-frontend",
    "acme/search-indexer",
    "acme/auth-service",
    "acme/mobile-sync",
];

/// A feature request: title, module, main file.
type Request = (&'static str, &'static str, &'static str);

const REQUESTS: &[Request] = &[
    (
        "Add rate limiting to the login endpoint",
        "auth",
        "src/auth/login.rs",
    ),
    (
        "Fix the off-by-one in invoice pagination",
        "billing",
        "src/billing/invoices.rs",
    ),
    (
        "Support ISO 8601 durations in the scheduler",
        "scheduler",
        "src/scheduler/parse.rs",
    ),
    (
        "Cache search suggestions for 60 seconds",
        "search",
        "src/search/suggest.rs",
    ),
    (
        "Return 404 instead of 500 for unknown customers",
        "api",
        "src/api/customers.rs",
    ),
    (
        "Retry webhook deliveries with jittered backoff",
        "webhooks",
        "src/webhooks/send.rs",
    ),
    (
        "Include the request id in every error response",
        "api",
        "src/api/errors.rs",
    ),
    (
        "Validate email addresses on sign-up",
        "auth",
        "src/auth/signup.rs",
    ),
];

/// The chance that the first test run fails, and that a run after a fix still fails.
const FIRST_RUN_FAILS: f64 = 0.35;
const FIX_FAILS: f64 = 0.3;
/// Fix rounds before the coding agent escalates to a human.
const FIX_ROUNDS: u32 = 2;

struct Crew {
    request_planner: Agent,
    code_planner: Agent,
    coder: Agent,
    retriever: Agent,
}

pub(super) async fn run(ctx: &mut Ctx, repo: &str) -> Result<(), String> {
    let crew = Crew {
        request_planner: ctx.join("request_planner", "request planner", GPT_4O_MINI.name),
        code_planner: ctx.join("code_planner", "code planner", CLAUDE_SONNET_4.name),
        coder: ctx.join("coder", "coding agent", CLAUDE_SONNET_4.name),
        retriever: ctx.join("retriever", "retriever", "text-embedding-3-small"),
    };
    let jobs = ctx.dice.int(3..=5) as usize;
    let requests = ctx.dice.sample(REQUESTS, jobs);
    let mut arrivals = vec![0.0];
    for _ in 1..jobs {
        let gap = ctx.dice.between(3_000.0, 25_000.0);
        arrivals.push(arrivals[arrivals.len() - 1] + gap);
    }
    let pipeline = ctx
        .root(SpanKind::Chain, format!("pipeline: {repo}"))
        .input(&json!({"repo": repo, "jobs": requests.iter().map(|r| r.0).collect::<Vec<_>>()}))
        .start();

    let mut failed = 0;
    let mut done: Vec<(&str, String)> = Vec::new();
    for (k, &(title, module, file)) in requests.iter().enumerate() {
        let idle_until = arrivals[k] - ctx.pace.now_ms();
        if idle_until > 0.0 {
            for agent in [&crew.request_planner, &crew.code_planner, &crew.coder] {
                agent
                    .update()
                    .status(AgentState::Idle)
                    .task("waiting for jobs")
                    .send();
            }
            ctx.pace.wait(idle_until).await;
        }
        let now = ctx.pace.now_ms();
        let waiting = arrivals[k + 1..].iter().filter(|&&a| a <= now).count();
        let wait_ms = (now - arrivals[k]).round();
        queue_metric(ctx, "queue.wait_ms", wait_ms, "ms", None);
        queue_metric(ctx, "queue.depth", waiting as f64, "jobs", None);
        queue_metric(ctx, "queue.processing", 1.0, "jobs", None);

        let job = ctx
            .child(
                &pipeline,
                SpanKind::Chain,
                format!("job #{}: {title}", k + 1),
            )
            .input(&json!({"request": title, "repo": repo}))
            .attribute("queue_wait_ms", &wait_ms)
            .start();
        if let Some((_, earlier)) = done.iter().rev().find(|(m, _)| *m == module) {
            ctx.edge(EdgeKind::DependsOn)
                .from_span(job.id())
                .to_span(earlier.clone())
                .label(format!("touches {module} too"))
                .send();
        }
        done.push((module, job.id().to_owned()));
        let outcome = work(ctx, &job, &crew, repo, title, file).await;
        let end = ctx.pace.now_ms();
        let status = if outcome.is_ok() { "ok" } else { "error" };
        queue_metric(ctx, "queue.run_ms", (end - now).round(), "ms", None);
        queue_metric(ctx, "queue.completed", 1.0, "jobs", Some(status));
        queue_metric(ctx, "queue.processing", 0.0, "jobs", None);
        let waiting = arrivals[k + 1..].iter().filter(|&&a| a <= end).count();
        queue_metric(ctx, "queue.depth", waiting as f64, "jobs", None);
        match outcome {
            Ok(commit) => {
                job.set_output(&commit);
                job.end();
            }
            Err(e) => {
                failed += 1;
                ctx.fail(job, e);
            }
        }
        if let Some(why) = ctx.stopped.clone() {
            ctx.fail(pipeline, &why);
            return Err(why);
        }
    }
    if failed * 2 > jobs {
        let why = format!("{failed} of {jobs} jobs failed");
        ctx.fail(pipeline, &why);
        return Err(why);
    }
    pipeline.end();
    Ok(())
}

/// A point of the pipeline's queue `jobs`, labelled as the queue convention has it.
fn queue_metric(ctx: &Ctx, name: &str, value: f64, unit: &str, status: Option<&str>) {
    let mut m = ctx
        .session
        .metric(name, value)
        .label("queue", "jobs")
        .unit(unit);
    if let Some(status) = status {
        m = m.label("status", status);
    }
    m.send();
}

async fn work(
    ctx: &mut Ctx,
    job: &Span,
    crew: &Crew,
    repo: &str,
    title: &str,
    file: &str,
) -> Result<Value, String> {
    let criteria = clarify(ctx, job, crew, title).await?;
    let (planned, plan_id) = plan(ctx, job, crew, repo, title, file, &criteria).await?;
    implement(ctx, job, crew, title, file, &planned, &plan_id).await
}

/// The request planner turns the request into acceptance criteria; returns them and its
/// turn's span id.
async fn clarify(
    ctx: &mut Ctx,
    job: &Span,
    crew: &Crew,
    title: &str,
) -> Result<(String, String), String> {
    let agent = &crew.request_planner;
    let turn = ctx.turn(job.id(), agent, "clarify the request");
    let text = format!(
        "Acceptance criteria for \"{title}\": the behaviour is covered by a unit test, existing \
         tests keep passing, the public API does not change, and the change is documented in \
         the changelog."
    );
    let messages = prompt(
        "You are the request planner of a coding team. Turn each request into crisp acceptance criteria.",
        &format!("New request from the product queue: {title}."),
    );
    let outcome = llm::call(
        ctx,
        &turn,
        "clarify_request",
        &GPT_4O_MINI,
        messages,
        &Reply::text(&text),
    )
    .await;
    let id = ctx.close_turn(turn, agent, outcome, "the request planner")?;
    Ok((text, id))
}

/// The code planner retrieves context and plans the change; returns the plan and its
/// turn's span id.
async fn plan(
    ctx: &mut Ctx,
    job: &Span,
    crew: &Crew,
    repo: &str,
    title: &str,
    file: &str,
    criteria: &(String, String),
) -> Result<(String, String), String> {
    let agent = &crew.code_planner;
    let turn = ctx.turn(job.id(), agent, "plan the change");
    ctx.edge(EdgeKind::Delegation)
        .from_agent(crew.request_planner.name())
        .to_agent(agent.name())
        .from_span(criteria.1.clone())
        .to_span(turn.id())
        .label(title)
        .send();
    let docs = retrieve(ctx, &turn, &crew.retriever, repo, title, file).await;
    let module_test = file.replace("src/", "tests/").replace(".rs", "_test.rs");
    let text = format!(
        "1. In {file}, change the handler as the request asks, keeping the signature. \
         2. Add a regression test in {module_test}. \
         3. Update CHANGELOG.md under Unreleased. Relevant context: {docs} files retrieved."
    );
    let messages = vec![
        json!({
            "role": "system",
            "content": "You are the code planner. Plan minimal, reviewable changes.",
        }),
        json!({"role": "user", "content": format!("{title}\n\n{}", criteria.0)}),
        json!({"role": "assistant", "content": "Let me look at the relevant code first."}),
        json!({
            "role": "user",
            "content": format!("Retrieved {docs} snippets from {repo}. Write the plan."),
        }),
    ];
    let outcome = llm::call(
        ctx,
        &turn,
        "plan_changes",
        &CLAUDE_SONNET_4,
        messages,
        &Reply::text(&text),
    )
    .await;
    let id = ctx.close_turn(turn, agent, outcome, "the code planner")?;
    Ok((text, id))
}

/// A RAG lookup over the repository; returns how many snippets it found.
async fn retrieve(
    ctx: &mut Ctx,
    turn: &Span,
    retriever: &Agent,
    repo: &str,
    title: &str,
    file: &str,
) -> usize {
    retriever.active(format!("search {repo}"));
    let span = ctx
        .child(turn, SpanKind::Retriever, "retrieve_context")
        .agent(retriever.name())
        .input(&json!({"query": title, "index": repo, "top_k": 5}))
        .start();
    ctx.wait(120.0, 600.0).await;
    let found = ctx.dice.int(3..=5) as usize;
    let top = ctx.dice.between(0.82, 0.97);
    let doc = |path: &str, score: f64, what: &str| {
        let snippet = format!("// {path}: {what}");
        json!({"path": path, "score": round3(score), "snippet": snippet})
    };
    let mut docs = vec![doc(file, top, "the handler to change")];
    let mut score = top;
    let others = [
        "src/lib.rs",
        "src/config.rs",
        "src/error.rs",
        "docs/ARCHITECTURE.md",
        "CHANGELOG.md",
    ];
    for path in ctx.dice.sample(&others, found - 1) {
        score -= ctx.dice.between(0.03, 0.12);
        docs.push(doc(path, score, "module docs and public items"));
    }
    span.score("relevance", round3(top));
    span.set_output(&docs);
    span.end();
    retriever.status(AgentState::Idle);
    found
}

/// The coding agent implements, tests, fixes, commits and pushes; returns the commit.
async fn implement(
    ctx: &mut Ctx,
    job: &Span,
    crew: &Crew,
    title: &str,
    file: &str,
    planned: &str,
    plan_id: &str,
) -> Result<Value, String> {
    let agent = &crew.coder;
    let turn = ctx.turn(job.id(), agent, "implement the change");
    ctx.edge(EdgeKind::Delegation)
        .from_agent(crew.code_planner.name())
        .to_agent(agent.name())
        .from_span(plan_id)
        .to_span(turn.id())
        .label("implement the plan")
        .send();
    let result = code(ctx, &turn, agent, title, file, planned).await;
    match result {
        Ok(commit) => {
            ctx.message(
                agent,
                &crew.request_planner,
                &turn,
                &format!("PR ready: {title}"),
            );
            ctx.end_turn(turn, agent);
            Ok(commit)
        }
        Err(e) => {
            ctx.fail_turn(turn, agent, &e);
            Err(e)
        }
    }
}

async fn code(
    ctx: &mut Ctx,
    turn: &Span,
    agent: &Agent,
    title: &str,
    file: &str,
    planned: &str,
) -> Result<Value, String> {
    let branch = format!("fd/{}", slug(title));
    tools::invoke(
        ctx,
        turn,
        &GIT_CHECKOUT,
        json!({"branch": branch, "from": "main"}),
        json!({"ok": true}),
    )
    .await?;
    let lines = ctx.dice.int(80..=600);
    tools::invoke(
        ctx,
        turn,
        &READ_FILE,
        json!({"path": file}),
        json!({"path": file, "lines": lines}),
    )
    .await?;
    let patch = json!({"path": file, "diff": format!("@@ -{lines},6 +{lines},14 @@")});
    let reply = Reply::with_tool(
        "Implementing step 1 and the regression test as planned.",
        "apply_patch",
        patch.clone(),
    );
    let messages = prompt(
        "You are a careful coding agent. Make the smallest change that satisfies the plan.",
        &format!("Plan:\n{planned}\n\nThe file {file} has {lines} lines. Write the patch."),
    );
    llm::call(ctx, turn, "write_patch", &CLAUDE_SONNET_4, messages, &reply).await?;
    tools::invoke(ctx, turn, &APPLY_PATCH, patch, json!({"applied": true})).await?;

    let mut failing = test(ctx, turn, FIRST_RUN_FAILS).await?;
    let mut round = 0;
    while let Some(failure) = failing {
        if round == FIX_ROUNDS {
            ctx.decision(
                turn,
                Level::Warn,
                "escalation",
                "tests still failing after two fixes; handing over to a human reviewer",
                &json!({"failing_test": failure, "fix_rounds": FIX_ROUNDS}),
            );
            return Err(format!("{failure} still failing after {FIX_ROUNDS} fixes"));
        }
        round += 1;
        ctx.log(turn, Level::Warn, &format!("test failed: {failure}"));
        let fix = json!({"path": file, "diff": format!("@@ fix for {failure} @@")});
        let reply = Reply::with_tool(
            format!("{failure} fails because the edge case is off by one; fixing the bound."),
            "apply_patch",
            fix.clone(),
        );
        let messages = prompt(
            "You are a careful coding agent. Fix the failing test without weakening it.",
            &format!("`cargo test` failed: {failure}. Fix it."),
        );
        llm::call(
            ctx,
            turn,
            "fix_failing_test",
            &CLAUDE_SONNET_4,
            messages,
            &reply,
        )
        .await?;
        tools::invoke(ctx, turn, &APPLY_PATCH, fix, json!({"applied": true})).await?;
        failing = test(ctx, turn, FIX_FAILS).await?;
    }

    let sha = ctx.dice.hex(12);
    let message = format!("{title}\n\nPlanned and implemented by the Flightdeck demo crew.");
    tools::invoke(
        ctx,
        turn,
        &GIT_COMMIT,
        json!({"message": message}),
        json!({"sha": sha}),
    )
    .await?;
    let ask = Ask {
        title: "Push to origin?",
        task: format!("The coding agent wants to push {sha} ({title}) to origin."),
        tool: GIT_PUSH.name,
        arguments: json!({"branch": branch, "remote": "origin"}),
    };
    let push = ctx.ask(turn, agent, ask).await?;
    let pushed = push["branch"].as_str().unwrap_or(&branch).to_owned();
    tools::invoke(ctx, turn, &GIT_PUSH, push, json!({"pushed": true})).await?;
    Ok(json!({"branch": pushed, "commit": sha}))
}

/// Runs the tests; the name of a failing test, if one fails.
async fn test(ctx: &mut Ctx, turn: &Span, fails: f64) -> Result<Option<String>, String> {
    let passed = ctx.dice.int(120..=480);
    let failure = if ctx.dice.chance(fails) {
        let names = [
            "handles_empty_input",
            "rejects_expired_token",
            "paginates_last_page",
            "retries_then_gives_up",
        ];
        Some(format!("tests::{}", ctx.dice.pick(&names)))
    } else {
        None
    };
    let failures: Vec<&String> = failure.iter().collect();
    let output = json!({"passed": passed, "failed": failures.len(), "failures": failures});
    tools::invoke(
        ctx,
        turn,
        &RUN_TESTS,
        json!({"command": "cargo test --workspace"}),
        output,
    )
    .await?;
    Ok(failure)
}

fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split_whitespace()
        .take(4)
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_lowercase()
        })
        .collect();
    words.join("-")
}
