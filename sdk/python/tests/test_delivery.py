"""Delivery against the real server taken away and back, across fork, through a kill right
after flush(), and against a scripted HTTP server for Retry-After and gzip."""

import gzip
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import flightdeck
from flightdeck._client import default_spool_dir
from conftest import free_port
from helpers import flushed, run_script


def spool_lines(directory):
    lines = []
    for root, _, files in os.walk(directory):
        for name in sorted(files):
            with open(os.path.join(root, name)) as f:
                lines += [json.loads(line) for line in f if line.strip()]
    return lines


def test_the_server_down_and_back_loses_nothing(own_server, tmp_path):
    spool = str(tmp_path / "spool")
    fd = flightdeck
    fd.init(url=own_server.url, spool=spool, linger=0.01)
    with fd.session("outage") as s:
        with fd.tool("before"):
            pass
        flushed(fd)
        own_server.stop()
        for i in range(200):
            with fd.tool(f"during {i}"):
                fd.log(f"line {i}")
        assert not fd.flush(0.5), "nothing can be delivered while the server is away"
        spooled = spool_lines(spool)
        assert spooled, "what could not be sent is in the spool"
        assert {m["type"] for m in spooled} <= {"span.start", "span.end", "event"}
        assert all(m["session_id"] == s.id for m in spooled)
        own_server.start()
        with fd.tool("after"):
            pass
    flushed(fd)
    names = [sp["name"] for sp in own_server.spans(s.id)]
    assert sorted(names) == sorted(["before", "after"] + [f"during {i}" for i in range(200)])
    assert all(sp["status"] == "ok" for sp in own_server.spans(s.id))
    assert len(own_server.events(s.id)) == 200
    assert own_server.session(s.id)["status"] == "completed"
    stats = fd.stats()
    assert (stats.dropped, stats.rejected, stats.pending) == (0, 0, 0)
    assert stats.retries >= 1 and stats.spooled > 0
    assert spool_lines(spool) == [], "the spool is emptied once sent"
    fd.shutdown()


def test_a_process_that_exits_while_the_server_is_away_leaves_a_spool_the_next_one_sends(server, tmp_path):
    spool = str(tmp_path / "spool")
    closed = f"http://127.0.0.1:{free_port()}"
    code = """
import flightdeck as fd
fd.init(exit_timeout=2)
with fd.session("left behind", id="orphan-1"):
    with fd.tool("scan"):
        pass
print(fd.flush(0.3))
"""
    gone = run_script(code, {"FLIGHTDECK_URL": closed, "FLIGHTDECK_SPOOL_DIR": spool})
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.strip() == "False"
    assert "stay in the spool" in gone.stderr
    # The spool directory is per URL: move the dead process's files to the live server's.
    [(root, _, files)] = [w for w in os.walk(spool) if w[2]]
    target = default_spool_dir(server.url, base=spool)
    os.makedirs(target)
    for name in files:
        os.rename(os.path.join(root, name), os.path.join(target, name))
    types = [m["type"] for m in spool_lines(target)]
    assert types == ["session.start", "span.start", "span.end", "session.end"]

    sender = subprocess.run([sys.executable, "-m", "flightdeck", "send", "--url", server.url, target],
                            capture_output=True, text=True, timeout=60)
    assert sender.returncode == 0, sender.stderr
    assert "sent 4 message(s)" in sender.stderr
    assert [sp["name"] for sp in server.spans("orphan-1")] == ["scan"]
    assert server.session("orphan-1")["status"] == "completed"
    assert spool_lines(target) == []


def test_a_new_process_adopts_the_spool_of_a_dead_one(server, tmp_path):
    spool = str(tmp_path / "spool")
    env = {"FLIGHTDECK_URL": server.url, "FLIGHTDECK_SPOOL_DIR": spool}
    directory = default_spool_dir(server.url, base=spool)
    os.makedirs(directory)
    with open(os.path.join(directory, "12345-deadbeef.jsonl"), "w") as f:
        f.write('{"type":"session.start","session_id":"adopted-1","name":"from a dead process"}\n')
        f.write('{"type":"span","session_id":"adopted-1","span_id":"a","kind":"tool","name":"t",'
                '"started_at":1795168800000000000,"ended_at":1795168801000000000}\n')
    adopter = run_script("import flightdeck as fd; fd.init(); print(fd.flush(10))", env)
    assert adopter.stdout.strip() == "True", adopter.stderr
    assert [sp["name"] for sp in server.spans("adopted-1")] == ["t"]
    assert os.listdir(directory) == []


def test_fork_gives_the_child_its_own_delivery(server, tmp_path):
    code = """
import multiprocessing, os
import flightdeck as fd
fd.init(linger=0.01)

def work():
    with fd.tool("multiprocessing child"):
        pass  # no flush: the child's exit does it

with fd.session("forked", id=os.environ["SID"]):
    with fd.tool("parent before"):
        pass
    pid = os.fork()
    if pid == 0:
        with fd.tool("forked child"):
            pass
        os._exit(0 if fd.flush(10) else 3)
    _, status = os.waitpid(pid, 0)
    child = multiprocessing.get_context("fork").Process(target=work)
    child.start()
    child.join()
    with fd.tool("parent after"):
        pass
print(os.WEXITSTATUS(status), child.exitcode, fd.flush(10))
"""
    done = run_script(code, {"FLIGHTDECK_URL": server.url, "FLIGHTDECK_SPOOL_DIR": str(tmp_path), "SID": "fork-1"})
    assert done.stdout.split() == ["0", "0", "True"], done.stderr
    spans = server.spans("fork-1")
    assert sorted(sp["name"] for sp in spans) == ["forked child", "multiprocessing child", "parent after",
                                                  "parent before"]
    assert all(sp["status"] == "ok" for sp in spans)
    assert server.session("fork-1")["status"] == "completed"


def test_a_process_killed_right_after_flush_returned_loses_nothing(server, tmp_path):
    code = """
import sys, time
import flightdeck as fd
fd.init()
with fd.session("killed", id="killed-1"):
    for i in range(3000):
        with fd.tool(f"t{i}"):
            pass
    if fd.flush(30):
        print("flushed", flush=True)
    time.sleep(60)
"""
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "FLIGHTDECK_URL": server.url, "FLIGHTDECK_SPOOL_DIR": str(tmp_path)})
    assert child.stdout.readline().strip() == "flushed"
    child.send_signal(signal.SIGKILL)
    child.wait()
    spans = server.spans("killed-1")
    assert len(spans) == 3000
    assert all(sp["status"] == "ok" for sp in spans)


def test_batches_refused_as_too_large_are_halved(tmp_path):
    from conftest import Server

    small = Server(str(tmp_path), "--max-body-bytes", "60000").start()
    try:
        fd = flightdeck
        fd.init(url=small.url, spool=False, linger=0.5)
        with fd.session("halving") as s:
            for i in range(40):
                fd.log(f"big {i}", blob=os.urandom(1500).hex())  # 3 KB each, 120 KB together
        flushed(fd)
        assert len(small.events(s.id)) == 40
        stats = fd.stats()
        assert stats.rejected == 0 and stats.batches >= 3
        fd.shutdown()
    finally:
        small.stop()


def test_messages_the_server_refuses_are_counted_and_the_rest_delivered(fd, server, caplog):
    with caplog.at_level(logging.WARNING, logger="flightdeck"):
        with fd.session("refusals") as s:
            fd.log("first")
            fd.event("a name too long", name="n" * 2000)
            fd.log("last")
        flushed(fd)
    assert sorted(e["message"] for e in server.events(s.id)) == ["first", "last"]
    assert fd.stats().rejected == 1
    assert any("refused 1 message" in r.getMessage() for r in caplog.records)


def test_a_full_buffer_drops_counts_and_warns_once(caplog):
    closed = f"http://127.0.0.1:{free_port()}"
    client = flightdeck.Client(closed, spool=False, capacity=5, linger=60)
    with caplog.at_level(logging.WARNING, logger="flightdeck"):
        for i in range(50):
            client.send({"type": "event", "session_id": "s", "message": str(i)})
    stats = client.stats()
    assert (stats.accepted, stats.dropped) == (5, 45)
    assert len([r for r in caplog.records if "buffer is full" in r.getMessage()]) == 1
    client.close(timeout=2)


class Scripted(BaseHTTPRequestHandler):
    """Answers the first request 503 with Retry-After: 1, the second 429, then 200."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.seen.append((time.monotonic(), self.headers.get("content-encoding"), body))
        n = len(self.server.seen)
        status = {1: 503, 2: 429}.get(n, 200)
        self.send_response(status)
        if n == 1:
            self.send_header("retry-after", "1")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_retry_after_is_waited_out_and_big_bodies_are_gzipped():
    http = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    http.seen = []
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        client = flightdeck.Client(f"http://127.0.0.1:{http.server_address[1]}", spool=False, linger=0.01)
        client.send({"type": "event", "session_id": "s", "message": "x" * 5000})
        assert client.flush(10)
        (t1, enc1, b1), (t2, _, b2), (t3, _, b3) = http.seen
        assert t2 - t1 >= 1.0, "the Retry-After of the 503 was waited out"
        assert enc1 == "gzip"
        assert b1 == b2 == b3, "the same batch, again"
        [message] = [json.loads(line) for line in b3.decode().splitlines()]
        assert message["message"] == "x" * 5000
        assert client.stats().retries == 2 and client.stats().sent == 1
        client.close()
    finally:
        http.shutdown()


def test_the_token_is_sent_and_a_wrong_one_is_refused_and_counted(tmp_path, caplog):
    from conftest import Server

    guarded = Server(str(tmp_path), "--token", "s3cret").start()
    try:
        right = flightdeck.Client(guarded.url, "s3cret", spool=False, linger=0.01)
        right.send({"type": "session.start", "session_id": "token-1", "name": "with the token"})
        assert right.flush(10)
        wrong = flightdeck.Client(guarded.url, "guess", spool=False, linger=0.01)
        with caplog.at_level(logging.WARNING, logger="flightdeck"):
            wrong.send({"type": "session.start", "session_id": "token-2"})
            wrong.flush(10)
        assert (wrong.stats().rejected, wrong.stats().sent) == (1, 0)
        assert any("HTTP 401" in r.getMessage() for r in caplog.records)
        request = urllib.request.Request(guarded.url + "/api/v1/sessions/token-1",
                                         headers={"Authorization": "Bearer s3cret"})
        with urllib.request.urlopen(request) as r:
            assert json.load(r)["name"] == "with the token"
        right.close()
        wrong.close()
    finally:
        guarded.stop()
