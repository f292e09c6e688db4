//! The heist crew: a planner drafts the plan and briefs the crew; in rounds the mole
//! reports the guard rotation (and sometimes lies), the hacker works the cameras and the
//! alarm, and the planner reviews, perhaps catching the lie; then the safecracker takes on
//! the vault. An undetected lie walks the crew into the guards.

use crate::ctx::Ctx;
use crate::gate::Ask;
use crate::llm::{self, CLAUDE_SONNET_4, GPT_4O, GPT_4O_MINI, Reply, prompt};
use crate::tools::{
    self, CHECK_GUARD_ROTATION, CRACK_SAFE, DISABLE_ALARM, DRILL_LOCK, LOOP_CAMERA_FEED,
    SCAN_CAMERAS,
};
use flightdeck_sdk::{Agent, AgentState, Level, Span, SpanKind};
use serde_json::json;

pub(super) const TARGETS: &[&str] = &[
    "the Bellagio vault",
    "First Bank of Rust",
    "the Louvre annex",
    "the Monte Carlo casino",
    "the Zurich freeport",
    "a cold-storage crypto bunker",
];
const ENTRIES: &[&str] = &[
    "the loading dock",
    "the rooftop ventilation shaft",
    "the old sewer tunnel",
    "the staff entrance",
    "a fake maintenance van",
];
const SHIFT_TIMES: &[&str] = &["01:30", "02:00", "02:15", "02:45", "03:10", "03:40"];
const SAFES: &[&str] = &[
    "a Chubb Sovereign",
    "a Diebold time-lock",
    "a Fichet-Bauche AG",
    "a Mosler Class 5",
];

/// The chance that the mole lies in a round.
const LIE: f64 = 0.3;
/// The chance that the planner catches a lie in review.
const CATCH: f64 = 0.6;

pub(super) async fn run(ctx: &mut Ctx, target: &str) -> Result<(), String> {
    let planner = ctx.join("planner", "mastermind", GPT_4O.name);
    let hacker = ctx.join("hacker", "hacker", CLAUDE_SONNET_4.name);
    let safecracker = ctx.join("safecracker", "safecracker", GPT_4O_MINI.name);
    let mole = ctx.join("mole", "inside man", GPT_4O_MINI.name);
    ctx.wait(300.0, 1500.0).await;
    for agent in [&planner, &hacker, &safecracker, &mole] {
        agent.status(AgentState::Idle);
    }

    let heist = ctx
        .root(SpanKind::Chain, format!("heist: {target}"))
        .input(&json!({"target": target, "crew": ["planner", "hacker", "safecracker", "mole"]}))
        .start();

    match crew_at_work(
        ctx,
        &heist,
        target,
        [&planner, &hacker, &safecracker, &mole],
    )
    .await
    {
        Ok(mole_exposed) => {
            let haul = ctx.dice.int(3..=160);
            heist.set_output(&json!({
                "outcome": "vault opened",
                "haul_usd_millions": haul,
                "mole_exposed": mole_exposed,
            }));
            heist.end();
            Ok(())
        }
        Err(why) => {
            ctx.fail(heist, &why);
            Err(why)
        }
    }
}

/// The heist from plan to debrief; whether the mole was exposed, or why it failed.
async fn crew_at_work(
    ctx: &mut Ctx,
    heist: &Span,
    target: &str,
    crew: [&Agent; 4],
) -> Result<bool, String> {
    let [planner, hacker, safecracker, mole] = crew;
    let entry = *ctx.dice.pick(ENTRIES);
    let safe = *ctx.dice.pick(SAFES);
    plan(
        ctx,
        heist,
        planner,
        [hacker, safecracker, mole],
        target,
        entry,
    )
    .await?;

    let rounds = ctx.dice.int(2..=3);
    let mut mole_in = true;
    // The guard rotation the crew believes, when it is a lie: (claimed, actual).
    let mut trap: Option<(String, String)> = None;
    for round in 1..=rounds {
        let intel = if mole_in {
            Some(mole_turn(ctx, heist, mole, planner, round).await?)
        } else {
            None
        };
        hacker_turn(ctx, heist, hacker, planner, round).await?;
        if let Some(intel) = intel {
            let caught = review(ctx, heist, planner, mole, &intel, round).await?;
            mole_in = !caught;
            trap = (intel.lied && !caught).then_some((intel.claimed, intel.actual));
        }
    }

    vault(ctx, heist, safecracker, planner, safe, trap).await?;
    debrief(ctx, heist, planner, target).await?;
    Ok(!mole_in)
}

const PLANNER_SYSTEM: &str = "You are the mastermind of a heist crew. Plan precisely, assign each \
    crew member one job, and revise the plan the moment the intel changes.";

async fn plan(
    ctx: &mut Ctx,
    heist: &Span,
    planner: &Agent,
    crew: [&Agent; 3],
    target: &str,
    entry: &str,
) -> Result<(), String> {
    let turn = ctx.turn(heist.id(), planner, "draft the plan");
    let [hacker, safecracker, mole] = crew;
    let text = format!(
        "Plan for {target}. Entry through {entry} after the guard shift change. \
         Step 1: the mole confirms the guard rotation from inside. \
         Step 2: the hacker loops the camera feed and silences the alarm panel. \
         Step 3: the safecracker opens the vault while the floor is dark. \
         Step 4: we leave the way we came, in under twelve minutes."
    );
    let messages = prompt(
        PLANNER_SYSTEM,
        &format!("Target: {target}. Crew: hacker, safecracker, mole. Draft the plan step by step."),
    );
    if let Err(e) = llm::call(
        ctx,
        &turn,
        "draft_plan",
        &GPT_4O,
        messages,
        &Reply::text(text),
    )
    .await
    {
        ctx.fail_turn(turn, planner, &e);
        return Err(format!("the planner could not draft a plan: {e}"));
    }
    ctx.message(
        planner,
        hacker,
        &turn,
        "loop the cameras, silence the alarm",
    );
    ctx.message(
        planner,
        safecracker,
        &turn,
        "open the vault, twelve minutes",
    );
    ctx.message(planner, mole, &turn, "confirm the guard rotation");
    ctx.end_turn(turn, planner);
    Ok(())
}

/// What the mole reported in one round.
struct Intel {
    claimed: String,
    actual: String,
    lied: bool,
}

async fn mole_turn(
    ctx: &mut Ctx,
    heist: &Span,
    mole: &Agent,
    planner: &Agent,
    round: u64,
) -> Result<Intel, String> {
    let turn = ctx.turn(
        heist.id(),
        mole,
        &format!("report the guard rotation (round {round})"),
    );
    let actual = ctx.dice.pick(SHIFT_TIMES).to_string();
    let seen = json!({"shift_change": actual, "guards_on_floor": ctx.dice.int(2..=5)});
    let asked = json!({"floor": "vault level", "night": "tonight"});
    let rotation = tools::invoke(ctx, &turn, &CHECK_GUARD_ROTATION, asked, seen).await;
    if let Err(e) = rotation {
        ctx.fail_turn(turn, mole, &e);
        return Err(format!("the mole lost access: {e}"));
    }
    let lied = ctx.dice.chance(LIE);
    let claimed = if lied {
        let other: Vec<&str> = SHIFT_TIMES
            .iter()
            .copied()
            .filter(|t| *t != actual)
            .collect();
        ctx.dice.pick(&other).to_string()
    } else {
        actual.clone()
    };
    let text = format!(
        "Guards change at {claimed}. Two on the vault level, one at the desk. \
         The night manager leaves at midnight. Nobody checks the loading dock after one."
    );
    let messages = prompt(
        "You are the crew's inside man at the target. Report what you see, briefly.",
        "What is the guard rotation tonight?",
    );
    if let Err(e) = llm::call(
        ctx,
        &turn,
        "report_intel",
        &GPT_4O_MINI,
        messages,
        &Reply::text(text),
    )
    .await
    {
        ctx.fail_turn(turn, mole, &e);
        return Err(format!("the mole went silent: {e}"));
    }
    if lied {
        ctx.decision(
            &turn,
            Level::Warn,
            "mole_lied",
            &format!("told the crew {claimed}; the guards actually change at {actual}"),
            &json!({"claimed": claimed, "actual": actual, "round": round}),
        );
    }
    ctx.message(mole, planner, &turn, &format!("guards change at {claimed}"));
    ctx.end_turn(turn, mole);
    Ok(Intel {
        claimed,
        actual,
        lied,
    })
}

async fn hacker_turn(
    ctx: &mut Ctx,
    heist: &Span,
    hacker: &Agent,
    planner: &Agent,
    round: u64,
) -> Result<(), String> {
    let (task, tool, args, result) = if round == 1 {
        (
            "loop the camera feed",
            &LOOP_CAMERA_FEED,
            json!({"cameras": "all", "loop_s": 900}),
            json!({"looped": true}),
        )
    } else {
        (
            "silence the alarm panel",
            &DISABLE_ALARM,
            json!({"zone": "vault", "mode": "maintenance"}),
            json!({"armed": false}),
        )
    };
    let turn = ctx.turn(heist.id(), hacker, task);
    let cameras = ctx.dice.int(4..=14);
    let reply = Reply::with_tool(
        format!("I'll map the camera network first, then {task}."),
        "scan_cameras",
        json!({"subnet": "10.20.0.0/24"}),
    );
    let messages = prompt(
        "You are the crew's hacker. Use your tools; never trip an alarm.",
        &format!("Round {round}: {task}. Report when done."),
    );
    let work = async {
        llm::call(
            ctx,
            &turn,
            "plan_intrusion",
            &CLAUDE_SONNET_4,
            messages,
            &reply,
        )
        .await?;
        let blind_spots = ctx.dice.int(0..=3);
        let found = json!({"cameras": cameras, "nvr": "DS-7608", "blind_spots": blind_spots});
        tools::invoke(
            ctx,
            &turn,
            &SCAN_CAMERAS,
            json!({"subnet": "10.20.0.0/24"}),
            found,
        )
        .await?;
        tools::invoke(ctx, &turn, tool, args, result).await
    };
    if let Err(e) = work.await {
        // The hacker improvises; the crew goes on, with more risk.
        ctx.log(
            &turn,
            Level::Error,
            &format!("{task} failed: {e}; going in anyway"),
        );
        ctx.message(hacker, planner, &turn, &format!("could not {task}"));
        ctx.fail_turn(turn, hacker, e);
        return Ok(());
    }
    ctx.message(
        hacker,
        planner,
        &turn,
        &format!("done: {task} ({cameras} cameras)"),
    );
    ctx.end_turn(turn, hacker);
    Ok(())
}

/// The planner reviews the round; true when the mole's lie is caught.
async fn review(
    ctx: &mut Ctx,
    heist: &Span,
    planner: &Agent,
    mole: &Agent,
    intel: &Intel,
    round: u64,
) -> Result<bool, String> {
    let turn = ctx.turn(heist.id(), planner, &format!("review round {round}"));
    let caught = intel.lied && ctx.dice.chance(CATCH);
    let text = if caught {
        format!(
            "The camera logs show the guard change at {}, not {}. The mole's intel is wrong. \
             Cut the mole out and move the entry to {}.",
            intel.actual, intel.claimed, intel.actual
        )
    } else {
        format!(
            "Intel is consistent with the camera logs. Guards change at {}. Proceed.",
            intel.claimed
        )
    };
    let messages = prompt(
        PLANNER_SYSTEM,
        &format!(
            "Round {round} reports are in. The mole says the guards change at {}. Review.",
            intel.claimed
        ),
    );
    if let Err(e) = llm::call(
        ctx,
        &turn,
        "review_progress",
        &GPT_4O,
        messages,
        &Reply::text(text),
    )
    .await
    {
        ctx.fail_turn(turn, planner, &e);
        return Err(format!("the planner lost the thread: {e}"));
    }
    if caught {
        ctx.decision(
            &turn,
            Level::Warn,
            "escalation",
            "the mole's guard rotation contradicts the camera logs; cutting the mole out",
            &json!({"suspect": "mole", "claimed": intel.claimed, "observed": intel.actual}),
        );
        ctx.decision(
            &turn,
            Level::Info,
            "plan_revision",
            &format!(
                "entry moved to {} after the real shift change",
                intel.actual
            ),
            &json!({"entry_time": {"from": intel.claimed, "to": intel.actual}}),
        );
        mole.update()
            .status(AgentState::Error)
            .task("cut from the crew")
            .send();
    }
    ctx.end_turn(turn, planner);
    Ok(caught)
}

async fn vault(
    ctx: &mut Ctx,
    heist: &Span,
    safecracker: &Agent,
    planner: &Agent,
    safe: &str,
    trap: Option<(String, String)>,
) -> Result<(), String> {
    let turn = ctx.turn(heist.id(), safecracker, "open the vault");
    let reply = Reply::with_tool(
        format!(
            "It's {safe}. Manipulation first; the relocker is on the left side, so no drilling there."
        ),
        "crack_safe",
        json!({"safe": safe, "method": "manipulation"}),
    );
    let messages = prompt(
        "You are the crew's safecracker. Assess the safe, then open it quietly.",
        &format!("You are at the vault: {safe}. How do you open it?"),
    );
    if let Err(e) = llm::call(ctx, &turn, "assess_vault", &GPT_4O_MINI, messages, &reply).await {
        ctx.fail_turn(turn, safecracker, &e);
        return Err(format!("the safecracker froze: {e}"));
    }
    let opened = json!({"open": true, "minutes": ctx.dice.int(4..=11)});
    let proposed = json!({"safe": safe, "method": "manipulation"});
    let ask = Ask {
        title: "Go for the vault?",
        task: format!("The safecracker is at {safe} and wants to open it by manipulation."),
        tool: CRACK_SAFE.name,
        arguments: proposed,
    };
    let args = match ctx.ask(&turn, safecracker, ask).await {
        Ok(args) => args,
        Err(why) => {
            ctx.message(safecracker, planner, &turn, "called off; leaving");
            ctx.fail_turn(turn, safecracker, &why);
            return Err(why);
        }
    };
    if let Some((claimed, actual)) = trap {
        let alarm = format!("alarm tripped: the guards changed at {actual}, not {claimed}");
        tools::trip(ctx, &turn, &CRACK_SAFE, args, &alarm).await;
        ctx.decision(
            &turn,
            Level::Error,
            "escalation",
            "abort: guards on the vault level; the mole's intel was wrong",
            &json!({"cause": "mole_lied", "claimed": claimed, "actual": actual}),
        );
        ctx.message(safecracker, planner, &turn, "guards! aborting");
        ctx.fail_turn(turn, safecracker, &alarm);
        return Err(alarm);
    } else if let Err(e) = tools::invoke(ctx, &turn, &CRACK_SAFE, args, opened.clone()).await {
        ctx.decision(
            &turn,
            Level::Info,
            "plan_revision",
            "manipulation failed; switching to the drill",
            &json!({"method": {"from": "manipulation", "to": "drill"}, "error": e}),
        );
        let drilled = tools::invoke(
            ctx,
            &turn,
            &DRILL_LOCK,
            json!({"safe": safe, "point": "hardplate bypass"}),
            opened,
        )
        .await;
        if let Err(e) = drilled {
            ctx.message(safecracker, planner, &turn, "the vault held");
            ctx.fail_turn(turn, safecracker, &e);
            return Err(format!("the vault held: {e}"));
        }
    }
    ctx.message(safecracker, planner, &turn, "vault open");
    ctx.end_turn(turn, safecracker);
    Ok(())
}

async fn debrief(ctx: &mut Ctx, heist: &Span, planner: &Agent, target: &str) -> Result<(), String> {
    let turn = ctx.turn(heist.id(), planner, "debrief");
    let text = format!(
        "We are out of {target} with no alarms. The cameras come back in four minutes. \
         Split as agreed, nobody spends anything for six months."
    );
    let messages = prompt(
        PLANNER_SYSTEM,
        "Everyone is out. Summarise the job for the crew.",
    );
    let result = llm::call(ctx, &turn, "debrief", &GPT_4O, messages, &Reply::text(text)).await;
    if let Err(e) = result {
        ctx.fail_turn(turn, planner, &e);
        return Err(format!("the debrief never happened: {e}"));
    }
    ctx.end_turn(turn, planner);
    Ok(())
}
