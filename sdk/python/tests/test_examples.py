"""The two examples, run as a user would, against the real server (and the scripted upstream)."""

import os
import subprocess
import sys

import upstream as up

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


def run_example(name, env):
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, name)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("session "), done.stdout
    return last.split()[1], done.stdout


def test_the_multi_agent_example(server, tmp_path):
    sid, _ = run_example("multi_agent.py", {"FLIGHTDECK_URL": server.url, "FLIGHTDECK_SPOOL_DIR": str(tmp_path)})
    session = server.session(sid)
    assert (session["name"], session["status"]) == ("heist #4", "completed")
    spans = server.spans(sid)
    assert sorted(sp["agent"] for sp in spans if sp["kind"] == "agent") == ["driver", "hacker", "hacker", "planner"]
    [llm] = [sp for sp in spans if sp["kind"] == "llm"]
    assert (llm["agent"], llm["usage"]) == ("planner", {"input_tokens": 42, "output_tokens": 17})
    assert sorted(sp["name"].rsplit(".", 1)[-1] for sp in spans if sp["kind"] == "tool") == [
        "crack", "drive", "scan_cameras"]
    edges = server.edges(sid)
    assert sorted(e["kind"] for e in edges) == ["delegation"] * 3 + ["message"] * 3
    agents = {a["agent"]: a for a in server.agents(sid)}
    assert agents["planner"]["messages_received"] == 3
    assert {a["status"] for a in agents.values()} == {"idle"}
    events = server.events(sid)
    assert any(e["category"] == "log" and e["message"] == "scanning floor 2" for e in events)
    queue_steps = sorted(e["name"] for e in events if e["category"] == "queue")
    assert queue_steps == ["job.done"] * 3 + ["job.enqueued"] * 3 + ["job.started"] * 3
    assert len(server.metrics("queue.completed", session_id=sid)) == 3
    assert len(server.metrics("queue.wait_ms", session_id=sid)) == 3
    assert server.metrics("process.memory.usage", session_id=sid), "process metrics were sampled"


def test_the_openai_example(server, tmp_path):
    llm = up.Upstream()
    try:
        sid, out = run_example("openai_agent.py", {"FLIGHTDECK_URL": server.url, "FLIGHTDECK_SPOOL_DIR": str(tmp_path),
                                                   "OPENAI_BASE_URL": llm.url + "/v1", "OPENAI_API_KEY": "sk-test"})
    finally:
        llm.close()
    assert up.TEXT in out
    spans = server.spans(sid)
    assert [sp["kind"] for sp in spans] == ["agent", "llm", "tool", "llm"]
    first, tool, second = (server.span(sid, sp["span_id"]) for sp in spans[1:])
    assert first["output"]["tool_calls"][0]["function"]["name"] == "scan_cameras"
    assert tool["input"] == {"floor": 2} and tool["output"] == {"floor": 2, "cameras": 4}
    assert second["input"][-1] == {"role": "tool", "tool_call_id": "call_1", "content": '{"floor": 2, "cameras": 4}'}
    assert second["output"] == {"role": "assistant", "content": up.TEXT}
    assert all(sp["agent"] == "scout" and sp["status"] == "ok" for sp in spans)
    assert server.session(sid)["totals"]["llm_calls"] == 2
