"""fd.review against the real server: a decision releases the waiting agent, an edit carries
the revised output, and with the server gone past the deadline the timeout action applies."""

import json
import threading
import time
import urllib.request


def _decide_when_pending(server, review_id, body):
    for _ in range(400):
        request = urllib.request.Request(f"{server.url}/api/v1/reviews/{review_id}/decision",
                                         data=json.dumps(body).encode(), method="POST",
                                         headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5):
                return
        except urllib.error.HTTPError:
            time.sleep(0.025)
    raise AssertionError(f"review {review_id} never became decidable")


def test_an_edit_reaches_the_waiting_agent(fd, server):
    threading.Thread(target=_decide_when_pending,
                     args=(server, "py-edit", {"decision": "edit", "output": {"cmd": "git push"}})).start()
    with fd.session("py review"):
        got = fd.review({"cmd": "git push --force"}, task="push", review_id="py-edit", timeout=30)
    assert got["decision"] == "edit"
    assert got["revised_output"] == {"cmd": "git push"}
    assert "git push --force" in got["diff"]


def test_without_a_server_the_timeout_action_applies(tmp_path):
    import flightdeck

    flightdeck.init(url="http://127.0.0.1:9", spool=str(tmp_path / "spool"))
    try:
        got = flightdeck.review("x", session_id="gone", timeout=0.3, on_timeout="exit_early")
    finally:
        flightdeck.shutdown()
    assert (got["state"], got["decision"], got["decided_by"]) == ("timed_out", "exit_early", "client")
