"""Sessions, agents and spans through the real server: nesting across threads, executors and
asyncio, decorators on every kind of function, exceptions, streaming, what a span records."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import flushed


def test_nested_spans_follow_threads_executors_and_asyncio_tasks(fd, server):
    @fd.tool(name="scan")
    def scan(where):
        return where

    async def in_tasks():
        @fd.tool(name="probe")
        async def probe(where):
            await asyncio.sleep(0.001)
            with fd.span("inner " + where):
                pass
            return where

        loop = asyncio.get_running_loop()
        await asyncio.gather(probe("task a"), probe("task b"))
        await loop.run_in_executor(None, scan, "run_in_executor")
        await asyncio.to_thread(scan, "to_thread")

    with fd.session("threads") as s:
        with fd.agent("planner") as planner:
            thread = threading.Thread(target=scan, args=("thread",))
            thread.start()
            thread.join()
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(scan, ["pool 1", "pool 2"]))
            asyncio.run(in_tasks())
            # Work outside the agent, in a pool thread that worked inside it before.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(scan, "outside").result()
    flushed(fd)

    spans = server.spans(s.id)
    assert len(spans) == 1 + 5 + 2 * 2 + 1
    for span in spans:
        if span["name"] in ("scan", "probe"):
            assert span["kind"] == "tool"
    by_input = {}
    for span in spans:
        if span["name"] == "scan":
            by_input[server.span(s.id, span["span_id"])["input"]["where"]] = span
    for where in ("thread", "pool 1", "pool 2", "run_in_executor", "to_thread"):
        assert by_input[where]["parent_id"] == planner.span_id, where
        assert by_input[where]["agent"] == "planner"
    assert "parent_id" not in by_input["outside"] or by_input["outside"]["parent_id"] is None
    assert by_input["outside"].get("agent") is None
    probes = {sp["span_id"] for sp in spans if sp["name"] == "probe"}
    assert {sp["parent_id"] for sp in spans if sp["name"].startswith("inner task")} == probes
    assert all(sp["parent_id"] == planner.span_id for sp in spans if sp["name"] == "probe")


def test_decorators_on_every_kind_of_function(fd, server):
    @fd.tool
    def plain(a, b=2):
        return a + b

    @fd.tool(name="renamed", capture=False)
    def secret(password):
        return "token"

    @fd.chain
    async def coro(x):
        await asyncio.sleep(0)
        return {"doubled": x * 2}

    @fd.chain
    def gen(n):
        for i in range(n):
            yield f"part{i} "

    @fd.retriever
    async def agen(query):
        for i in range(2):
            await asyncio.sleep(0)
            yield {"doc": i, "query": query}

    class Crew:
        @fd.agent
        def hacker(self, target):
            return f"hacked {target}"

        @fd.span(kind="custom")
        @classmethod
        def roster(cls):
            return ["hacker"]

    async def consume():
        return [d async for d in agen("vault")]

    with fd.session("decorators") as s:
        assert plain(1) == 3
        assert secret("hunter2") == "token"
        assert asyncio.run(coro(21)) == {"doubled": 42}
        assert list(gen(3)) == ["part0 ", "part1 ", "part2 "]
        assert len(asyncio.run(consume())) == 2
        assert Crew().hacker("cams") == "hacked cams"
        assert Crew.roster() == ["hacker"]
    flushed(fd)

    spans = server.by_name(s.id)
    full = {name: server.span(s.id, sp["span_id"]) for name, sp in spans.items()}
    assert full["test_decorators_on_every_kind_of_function.<locals>.plain"]["input"] == {"a": 1}
    assert full["test_decorators_on_every_kind_of_function.<locals>.plain"]["output"] == 3
    assert "input" not in full["renamed"] or full["renamed"]["input"] is None
    assert "output" not in full["renamed"] or full["renamed"]["output"] is None
    coro_span = full["test_decorators_on_every_kind_of_function.<locals>.coro"]
    assert (coro_span["kind"], coro_span["output"]) == ("chain", {"doubled": 42})
    assert full["test_decorators_on_every_kind_of_function.<locals>.gen"]["output"] == "part0 part1 part2 "
    agen_span = full["test_decorators_on_every_kind_of_function.<locals>.agen"]
    assert agen_span["kind"] == "retriever"
    assert agen_span["output"] == [{"doc": 0, "query": "vault"}, {"doc": 1, "query": "vault"}]
    hacker = full["hacker"]
    assert (hacker["kind"], hacker["agent"], hacker["input"]) == ("agent", "hacker", {"target": "cams"})
    assert full["test_decorators_on_every_kind_of_function.<locals>.Crew.roster"]["output"] == ["hacker"]
    assert all(sp["status"] == "ok" for sp in spans.values())


def test_a_generator_span_is_current_only_inside_the_generator(fd, server):
    seen = []

    @fd.tool
    def numbers():
        for i in range(3):
            seen.append(fd.current_span().name)
            yield i

    with fd.session("generator scope") as s:
        with fd.span("outer") as outer:
            for _ in numbers():
                seen.append(fd.current_span().name)
            closed_early = numbers()
            next(closed_early)
            closed_early.close()
        assert fd.current_span() is None
    flushed(fd)
    assert seen[:6] == [
        "test_a_generator_span_is_current_only_inside_the_generator.<locals>.numbers",
        "outer",
    ] * 3
    spans = server.spans(s.id)
    assert [sp["status"] for sp in spans] == ["ok", "ok", "ok"]
    assert all(sp["parent_id"] == outer.span_id for sp in spans[1:])


def test_exceptions_fail_the_span_with_the_traceback_and_are_reraised(fd, server):
    @fd.tool
    def crack(safe):
        raise ValueError(f"the {safe} is rigged")

    @fd.tool
    async def acrack():
        raise KeyError("combination")

    @fd.tool
    def gcrack():
        yield 1
        raise RuntimeError("alarm")

    with pytest.raises(ZeroDivisionError):
        with fd.session("failing") as s:
            with pytest.raises(ValueError, match="rigged"):
                crack("vault")
            with pytest.raises(KeyError):
                asyncio.run(acrack())
            with pytest.raises(RuntimeError):
                list(gcrack())
            with fd.span("divide"):
                1 / 0
    flushed(fd)

    spans = {sp["name"].rsplit(".", 1)[-1]: server.span(s.id, sp["span_id"]) for sp in server.spans(s.id)}
    assert {n: sp["status"] for n, sp in spans.items()} == {
        "crack": "error", "acrack": "error", "gcrack": "error", "divide": "error"}
    error = spans["crack"]["error"]
    assert error.startswith("ValueError: the vault is rigged")
    assert "Traceback (most recent call last)" in error and "in crack" in error
    assert spans["acrack"]["error"].startswith("KeyError: 'combination'")
    assert spans["gcrack"]["error"].startswith("RuntimeError: alarm")
    session = server.session(s.id)
    assert session["status"] == "failed"
    assert session["error"].startswith("ZeroDivisionError")


def test_streamed_chunks_show_while_the_span_runs(fd, server):
    with fd.session("streaming") as s:
        with fd.llm("answer", model="gpt-4o", input=[{"role": "user", "content": "when?"}]) as span:
            span.chunk("The vault ")
            span.chunk("opens")
            flushed(fd)
            running = server.span(s.id, span.span_id)
            assert running["status"] == "running"
            assert running["output"] == "The vault opens"
            span.chunk(" at midnight.")
            span.usage(12, 5)
    flushed(fd)
    done = server.span(s.id, span.span_id)
    assert done["status"] == "ok"
    assert done["output"] == "The vault opens at midnight."
    assert done["usage"] == {"input_tokens": 12, "output_tokens": 5}
    assert done["cost_usd"] > 0, "priced from the model and usage by the server"
    assert done["input"] == [{"role": "user", "content": "when?"}]


def test_what_a_span_records(fd, server):
    def redact(field, value):
        if isinstance(value, dict) and "password" in value:
            return {**value, "password": "***"}
        return value

    fd.init(url=server.url, spool=False, linger=0.01, redact=redact)
    messages = [{"role": "user", "content": "plan"}]
    with fd.session("records", tags=["nightly"], metadata={"git": "ab12"}, budget={"cost_usd": 2}) as s:
        with fd.agent("planner", role="lead", model="gpt-4o", task="plan the job") as planner:
            with fd.llm("decompose", model="gpt-4o", params={"temperature": 0.2}, input=messages) as call:
                messages.append({"role": "assistant", "content": "later, recorded: not"})
                call.score("relevance", 0.75)
                call.set_attribute("retry", 1)
                call.cost(0.5)
                call.set_output({"role": "assistant", "content": "case the bank"})
                fd.log("thinking", level="debug", step=1)
                fd.decision("plan_revision", "exit by the dock", {"exit": "dock"})
            fd.delegate("hacker", "loop the cameras")
            fd.message_to("driver", "be ready")
            fd.metric("queue.depth", 3, unit="jobs", labels={"queue": "coding"})
            with fd.tool("login", input={"user": "ada", "password": "hunter2"}):
                pass
            planner.status("idle", task="waiting")
    flushed(fd)

    session = server.session(s.id)
    assert (session["name"], session["tags"], session["metadata"]) == ("records", ["nightly"], {"git": "ab12"})
    assert session["budget"] == {"cost_usd": 2}
    assert session["status"] == "completed"
    spans = server.by_name(s.id)
    llm = server.span(s.id, spans["decompose"]["span_id"])
    assert llm["input"] == [{"role": "user", "content": "plan"}], "recorded as it was when the span started"
    assert (llm["params"], llm["scores"], llm["attributes"]["retry"]) == ({"temperature": 0.2}, {"relevance": 0.75}, 1)
    assert (llm["cost_usd"], llm["output"]) == (0.5, {"role": "assistant", "content": "case the bank"})
    assert (llm["agent"], llm["parent_id"]) == ("planner", planner.span_id)
    assert server.span(s.id, spans["login"]["span_id"])["input"] == {"user": "ada", "password": "***"}

    events = server.events(s.id)
    log = next(e for e in events if e.get("message") == "thinking")
    assert (log["level"], log["span_id"], log["data"], log["agent"]) == ("debug", llm["span_id"], {"step": 1}, "planner")
    decision = next(e for e in events if e["category"] == "decision")
    assert (decision["name"], decision["data"]) == ("plan_revision", {"exit": "dock"})
    edges = {e["kind"]: e for e in server.edges(s.id)}
    assert (edges["delegation"]["from_agent"], edges["delegation"]["to_agent"]) == ("planner", "hacker")
    assert edges["delegation"]["from_span"] == planner.span_id
    assert (edges["message"]["to_agent"], edges["message"]["label"]) == ("driver", "be ready")
    [depth] = server.metrics("queue.depth", session_id=s.id)
    assert (depth["value"], depth["unit"], depth["labels"]) == (3, "jobs", {"queue": "coding"})
    [agent] = server.agents(s.id)
    assert (agent["agent"], agent["role"], agent["model"]) == ("planner", "lead", "gpt-4o")
    assert agent["status"] == "idle"
    assert agent["messages_sent"] == 2


def test_agents_report_status_and_heartbeats(fd, server):
    fd.init(url=server.url, spool=False, linger=0.01, heartbeat=0.05)
    with fd.session("heartbeat") as s:
        fd.agent_status("initializing", agent="hacker")
        with fd.agent("hacker", task="cams"):
            flushed(fd)
            assert server.agents(s.id)[0]["status"] == "active"
            first = server.agents(s.id)[0]["last_seen"]
            for _ in range(100):
                flushed(fd)
                if server.agents(s.id)[0]["last_seen"] != first:
                    break
                threading.Event().wait(0.05)
            assert server.agents(s.id)[0]["last_seen"] > first, "heartbeats move last_seen on"
        with pytest.raises(OSError):
            with fd.agent("driver"):
                raise OSError("flat tyre")
    flushed(fd)
    states = {a["agent"]: a["status"] for a in server.agents(s.id)}
    assert states == {"hacker": "idle", "driver": "error"}


def test_work_outside_a_session_goes_to_the_process_session(fd, server):
    with fd.tool("stray"):
        pass
    fd.log("loose end")
    flushed(fd)
    [session] = [x for x in server.sessions(q="pid") if x["totals"]["spans"] == 1 and "stray" not in x]
    spans = server.spans(session["session_id"])
    assert [sp["name"] for sp in spans] == ["stray"]
    assert session["status"] == "running"
    fd.shutdown()
    assert server.session(session["session_id"])["status"] == "completed", "ended at shutdown"


def test_bad_input_is_refused_with_a_clear_error(fd):
    with pytest.raises(ValueError, match="span kind 'robot'"):
        fd.span("x", kind="robot")
    with pytest.raises(ValueError, match="level 'loud'"):
        fd.log("x", level="loud")
    with pytest.raises(ValueError, match="agent status 'sleepy'"):
        fd.agent_status("sleepy", agent="a")
    with pytest.raises(ValueError, match="needs to_agent or to_span"):
        fd.current_session().edge("delegation", from_agent="a")
    with pytest.raises(TypeError, match="not a function"):
        fd.tool("x")(42)


def test_a_failing_redaction_hook_leaves_the_payload_out(fd, server):
    def redact(field, value):
        raise RuntimeError("hook bug")

    fd.init(url=server.url, spool=False, linger=0.01, redact=redact)
    with fd.session("redaction failure") as s:
        with fd.tool("login", input={"password": "hunter2"}) as span:
            pass
    flushed(fd)
    assert server.span(s.id, span.span_id)["input"] == "[redaction failed: RuntimeError]"


def test_the_logging_handler_files_records_under_the_current_span_or_session(fd, server):
    import logging

    logger = logging.getLogger("crew.test")
    logger.setLevel(logging.DEBUG)
    handler = fd.LoggingHandler()
    logger.addHandler(handler)
    logging.getLogger("flightdeck").addHandler(handler)  # its own records are never fed back
    try:
        with fd.session("logging") as s:
            logger.warning("session level %s", "warning")
            with fd.agent("hacker") as hacker:
                logger.debug("looping the cameras")
                try:
                    raise ConnectionError("camera offline")
                except ConnectionError:
                    logger.exception("lost the feed")
                logging.getLogger("flightdeck").warning("about the SDK itself")
        flushed(fd)
    finally:
        logger.removeHandler(handler)
        logging.getLogger("flightdeck").removeHandler(handler)
    events = {e["message"]: e for e in server.events(s.id, category="log")}
    assert set(events) == {"session level warning", "looping the cameras", "lost the feed"}
    top = events["session level warning"]
    assert (top["level"], top["name"], top.get("span_id"), top.get("agent")) == ("warn", "crew.test", None, None)
    debug = events["looping the cameras"]
    assert (debug["level"], debug["span_id"], debug["agent"]) == ("debug", hacker.span_id, "hacker")
    assert debug["data"]["function"] == "test_the_logging_handler_files_records_under_the_current_span_or_session"
    error = events["lost the feed"]
    assert error["level"] == "error"
    assert "ConnectionError: camera offline" in error["data"]["exception"]


def test_queue_helpers_report_jobs_by_the_naming_convention(fd, server):
    with fd.session("queue") as s:
        jobs = fd.queue("coding")
        first = jobs.enqueued()
        second = jobs.enqueued("job-2", priority="high")
        jobs.started(first)
        jobs.done(first)
        jobs.done(first)  # reported twice: kept once
        jobs.started(second)
        jobs.done(second, status="error")
        elsewhere = fd.queue("coding")
        assert elsewhere is jobs
    flushed(fd)
    steps = [(e["name"], e["data"]["job_id"]) for e in server.events(s.id, category="queue")]
    assert sorted(steps) == sorted([("job.enqueued", first), ("job.enqueued", "job-2"), ("job.started", first),
                                    ("job.done", first), ("job.started", "job-2"), ("job.done", "job-2")])
    done = [e for e in server.events(s.id, category="queue") if e["name"] == "job.done"]
    assert {e["data"]["status"] for e in done} == {"ok", "error"}
    assert all(e["data"]["queue"] == "coding" and e["data"]["run_ms"] >= 0 for e in done)
    waits = server.metrics("queue.wait_ms", session_id=s.id)
    assert len(waits) == 2 and all(w["labels"] == {"queue": "coding"} and w["value"] >= 0 for w in waits)
    completed = server.metrics("queue.completed", session_id=s.id)
    # The metric counts reports (the repeated done too); the events, keyed by job, count jobs.
    assert sorted(m["labels"]["status"] for m in completed) == ["error", "ok", "ok"]
    depth = server.metrics("queue.depth", session_id=s.id)
    assert [m["value"] for m in depth][:2] == [1, 2] and depth[-1]["value"] == 0


def test_joining_a_session_started_elsewhere(fd, server):
    with fd.session("request") as s:
        pass
    with fd.session(id=s.id, join=True):
        with fd.tool("late work"):
            pass
    flushed(fd)
    assert [sp["name"] for sp in server.spans(s.id)] == ["late work"]
    assert server.session(s.id)["name"] == "request"


def test_values_json_cannot_carry_are_converted(fd, server):
    import dataclasses
    import datetime

    @dataclasses.dataclass
    class Plan:
        steps: list

    class Thing:
        def __repr__(self):
            return "<a thing>"

    odd = {"nan": float("nan"), "when": datetime.datetime(2026, 1, 1), "plan": Plan([1]), "raw": b"xx",
           "thing": Thing(), "tags": {"a"}}
    with fd.session("odd values") as s:
        with fd.tool("odd", input=odd) as span:
            span.set_attribute("thing", Thing())
            span.set_output("x" * 2_000_000)
    flushed(fd)
    recorded = server.span(s.id, span.span_id)
    assert recorded["input"] == {"nan": None, "when": "2026-01-01T00:00:00", "plan": {"steps": [1]},
                                 "raw": "<2 bytes>", "thing": "<a thing>", "tags": ["a"]}
    assert recorded["attributes"]["thing"] == "<a thing>"
    assert recorded["output"].endswith("... [truncated: 2000002 characters]")
    assert fd.stats().rejected == 0
