"""Agents: a scope that is an agent span, reports the agent's status, and keeps it alive.

Entering `agent("planner")` sends `agent.status` `active` (with role, model and task) and
opens a span of kind `agent` whose children inherit the agent's name; leaving sends `idle`,
or `error` when an exception leaves it. While any scope of an agent is open, the client's
heartbeat thread reports it every `heartbeat` seconds (10 by default; the server shows an
agent as offline after 30 s of silence).
"""

import threading

from ._record import send_agent_status
from ._spans import Span, SpanScope


class AgentSpan(Span):
    """The span of an agent's turn; `status()` reports the agent's state."""

    __slots__ = ()

    def status(self, state=None, *, task=None, role=None, model=None):
        self.agent_status(state, task=task, role=role, model=model)


class AgentScope(SpanScope):
    span_class = AgentSpan

    def __init__(self, name=None, *, role=None, model=None, task=None, **fields):
        super().__init__(name, kind="agent", **fields)
        self.role = role
        self.model = model
        self.task = task

    def _open(self, call):
        if self.name is None and call is not None:
            self.name = call.fn.__name__
        self.fields["agent"] = self.name
        span = super()._open(call)
        client = span.session.client
        send_agent_status(client, span.session.id, self.name, "active", role=self.role, model=self.model,
                          task=self.task)
        client.heartbeat.enter(span.session.id, self.name)
        return span

    def _close(self, span, error, result):
        super()._close(span, error, result)
        client = span.session.client
        client.heartbeat.leave(span.session.id, self.name)
        send_agent_status(client, span.session.id, self.name, "error" if error is not None else "idle")


class Heartbeat:
    """Reports every open agent every `client.heartbeat_interval` seconds, from one thread."""

    def __init__(self, client):
        self._client = client
        self._lock = threading.Lock()
        self._open = {}  # (session id, agent) -> open scopes
        self._stop = threading.Event()
        self._thread = None

    def enter(self, session_id, agent):
        with self._lock:
            key = (session_id, agent)
            self._open[key] = self._open.get(key, 0) + 1
            if self._thread is None and self._client.heartbeat_interval:
                self._thread = threading.Thread(target=self._run, name="flightdeck-heartbeat", daemon=True)
                self._thread.start()

    def leave(self, session_id, agent):
        with self._lock:
            key = (session_id, agent)
            left = self._open.get(key, 1) - 1
            if left > 0:
                self._open[key] = left
            else:
                self._open.pop(key, None)

    def stop(self):
        self._stop.set()

    def _run(self):
        while not self._stop.wait(self._client.heartbeat_interval):
            with self._lock:
                alive = list(self._open)
            for session_id, agent in alive:
                send_agent_status(self._client, session_id, agent)
