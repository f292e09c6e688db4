"""A heist crew in plain Python: a planner decomposes the job with a (simulated) LLM, delegates
to a hacker and a driver that work in parallel threads off a job queue, and every step shows
in Flightdeck live. Run it against a running server:

    python sdk/python/examples/multi_agent.py          # FLIGHTDECK_URL, default http://127.0.0.1:7329
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import flightdeck as fd

log = logging.getLogger("crew")

PLAN = ["loop the cameras", "open the vault", "drive away"]
CREW = {"loop the cameras": "hacker", "open the vault": "hacker", "drive away": "driver"}


@fd.llm(model="gpt-4o-mini", provider="simulated")
def think(messages):
    """A stand-in for an LLM: streams its answer word by word."""
    span = fd.current_span()
    for word in ("First", " loop the cameras,", " then open the vault,", " then drive away."):
        time.sleep(0.01)
        span.chunk(word)
    span.usage(input_tokens=42, output_tokens=17)
    return {"role": "assistant", "content": "; ".join(PLAN)}


@fd.tool
def scan_cameras(floor):
    log.info("scanning floor %d", floor)
    return {"cameras": 4, "floor": floor}


@fd.tool
def crack(safe):
    return {"opened": safe}


@fd.tool
def drive(route):
    return {"route": route, "eta_min": 7}


def work(jobs, step):
    """A crew member takes a step off the queue and does it as its agent."""
    member = CREW[step]
    jobs.started(step)
    with fd.agent(member, role=member, task=step):
        if step == "loop the cameras":
            scan_cameras(2)
        elif step == "open the vault":
            crack("main vault")
        else:
            drive("loading dock")
        fd.message_to("planner", f"done: {step}")
    jobs.done(step)


def main():
    fd.init()
    logging.basicConfig(level=logging.INFO)
    logging.getLogger().addHandler(fd.LoggingHandler())
    with fd.session("heist #4", tags=["example"], budget={"cost_usd": 2}) as session:
        sampler = fd.process_metrics(interval=0.05)
        jobs = fd.queue("heist")
        with fd.agent("planner", role="lead", model="gpt-4o-mini", task="plan the job"):
            think([{"role": "system", "content": "You plan heists."}, {"role": "user", "content": "Plan the job."}])
            fd.decision("plan", "three steps, two crew members", {"steps": PLAN})
            for step in PLAN:
                jobs.enqueued(step)
                fd.delegate(CREW[step], step)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda step: work(jobs, step), PLAN))
        sampler.stop()
    fd.flush()
    print(f"session {session.id}")


if __name__ == "__main__":
    main()
