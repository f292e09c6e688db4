"""A replay through the SDK's wrapper: an agent recorded through the proxy, then re-run with
`FLIGHTDECK_REPLAY` set and its client instrumented by `instrument_openai`, which points it at
the replay (no other change): the call before the fork point is answered from the recording
and never reaches the scripted upstream; the fork call does."""

import json
import urllib.request

import openai
import pytest
import upstream as up
from conftest import Server

ASK = [{"role": "user", "content": "When does the vault open?"}]


@pytest.fixture
def proxied(tmp_path):
    """An upstream, and a server whose proxy forwards to it as `openai`."""
    llm = up.Upstream()
    config = tmp_path / "flightdeck.toml"
    config.write_text(f'[proxy.upstreams.openai]\nbase_url = "{llm.url}"\n')
    server = Server(str(tmp_path), "--config", str(config)).start()
    yield llm, server
    server.stop()
    llm.close()


def post(server, path, body):
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.load(r)


def spans(server, sid, n):
    import time

    for _ in range(200):
        try:
            found = [s for s in server.spans(sid) if s["status"] != "running"]
        except OSError:
            found = []
        if len(found) >= n:
            return found
        time.sleep(0.025)
    raise AssertionError(f"{n} spans were not recorded in {sid}")


def test_instrument_openai_honours_the_replay_in_the_environment(proxied, monkeypatch, tmp_path):
    import flightdeck as fd

    llm, server = proxied
    recorded = openai.OpenAI(base_url=f"{server.url}/proxy/openai/v1", api_key="sk-test", max_retries=0,
                             default_headers={"x-flightdeck-session": "sdk-orig"})
    for n in (1, 2):
        recorded.chat.completions.create(model="gpt-4o-mini", messages=ASK + [{"role": "user", "content": f"step {n}"}])
    original = spans(server, "sdk-orig", 2)
    assert len(llm.requests) == 2
    replay = post(server, "/api/v1/replays", {"session_id": "sdk-orig", "span_id": original[1]["span_id"]})

    monkeypatch.setenv("FLIGHTDECK_REPLAY", replay["replay_id"])
    fd.init(url=server.url, spool=str(tmp_path / "spool"), linger=0.01)
    try:
        assert fd.replay_base_url() == replay["base_urls"]["openai"]
        client = fd.instrument_openai(openai.OpenAI(base_url=llm.url + "/v1", api_key="sk-test", max_retries=0))
        assert str(client.base_url).rstrip("/") == replay["base_urls"]["openai"]
        with fd.session("sdk replay"):
            for n in (1, 2):
                answer = client.chat.completions.create(model="gpt-4o-mini",
                                                        messages=ASK + [{"role": "user", "content": f"step {n}"}])
                assert answer.choices[0].message.content == up.TEXT
    finally:
        fd.shutdown()
    assert len(llm.requests) == 3, "the first call was answered from the recording"
    fork = spans(server, replay["fork_session_id"], 2)
    served = [server.span(replay["fork_session_id"], s["span_id"])["attributes"].get("replay.served") for s in fork]
    assert served == [True, None]
    monkeypatch.delenv("FLIGHTDECK_REPLAY")
    assert fd.replay_base_url() is None
