"""Fixtures: a real Flightdeck binary on a free loopback port, and the SDK pointed at it.

The binary is `$FLIGHTDECK_BIN`, else the workspace's `target/debug/flightdeck`, built with
`cargo build -p flightdeck` when missing. Each `Server` has its own database in a temporary
directory; `stop()` kills it (SIGKILL), and `start()` brings it back on the same port and
database, which is how the tests take the server away and back.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)


def binary():
    path = os.environ.get("FLIGHTDECK_BIN") or os.path.join(ROOT, "target", "debug", "flightdeck")
    if not os.path.exists(path):
        subprocess.run(["cargo", "build", "-p", "flightdeck"], cwd=ROOT, check=True)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `flightdeck serve` process and its query API."""

    def __init__(self, directory, *args):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = os.path.join(directory, "flightdeck.db")
        self.log = os.path.join(directory, "server.log")
        self.args = list(args)
        self.process = None

    def start(self):
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [binary(), "serve", "--addr", f"127.0.0.1:{self.port}", "--db", self.db, "--no-otlp-grpc", *self.args],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RUST_LOG": "warn"},
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"flightdeck exited: {open(self.log).read()[-2000:]}")
            try:
                if self.get("/healthz")["status"] == "ok":
                    return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("flightdeck did not answer /healthz within 30 s")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def get(self, path, **params):
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        with urllib.request.urlopen(self.url + path + query, timeout=10) as r:
            return json.load(r)

    # -- the reads tests make --------------------------------------------------------------

    def session(self, sid):
        return self.get(f"/api/v1/sessions/{sid}")

    def spans(self, sid):
        return self.get(f"/api/v1/sessions/{sid}/spans")

    def span(self, sid, span_id):
        return self.get(f"/api/v1/spans/{sid}/{span_id}")

    def events(self, sid, **params):
        return self.get(f"/api/v1/sessions/{sid}/events", limit=1000, **params)["items"]

    def edges(self, sid):
        return self.get(f"/api/v1/sessions/{sid}/edges")

    def agents(self, sid):
        return self.get(f"/api/v1/sessions/{sid}/agents")

    def metrics(self, name, **params):
        return self.get("/api/v1/metrics", name=name, **params)

    def sessions(self, **params):
        return self.get("/api/v1/sessions", **params)["items"]

    def by_name(self, sid):
        """The session's spans by name (each name once)."""
        return {s["name"]: s for s in self.spans(sid)}


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(str(tmp_path_factory.mktemp("server"))).start()
    yield s
    s.stop()


@pytest.fixture
def own_server(tmp_path):
    """A server of the test's own, for tests that stop and start it."""
    s = Server(str(tmp_path)).start()
    yield s
    s.stop()


@pytest.fixture
def fd(server, tmp_path):
    """The SDK, initialised against the shared server with a spool of the test's own."""
    import flightdeck

    flightdeck.init(url=server.url, spool=str(tmp_path / "spool"), linger=0.01)
    yield flightdeck
    flightdeck.shutdown()
