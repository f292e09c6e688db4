"""What a session and a span can both record: events (logs, decisions), edges, metrics.

A `Recorder` is a place in a session: the session itself, or a span in it (whose id the
records carry), with the agent doing the work. Every record gets its id and time on the
caller's thread, so a batch that is retried is stored once.
"""

from . import _wire
from ._wire import RAW

LEVELS = ("debug", "info", "warn", "error")
EDGE_KINDS = ("delegation", "message", "depends_on")
AGENT_STATES = ("initializing", "idle", "active", "error", "offline")


class Recorder:
    __slots__ = ("session", "agent")

    def __init__(self, session, agent):
        self.session = session
        self.agent = agent

    @property
    def span_id(self):  # a session is not a span; Span overrides this with its slot
        return None

    def event(self, message=None, *, category="log", level=None, name=None, data=None, at=None):
        """A timestamped record: a log line (the default category), a decision, anything."""
        if level is not None and level not in LEVELS:
            raise ValueError(f"flightdeck: level {level!r} is not one of {', '.join(LEVELS)}")
        record = _wire.given({"type": "event", "session_id": self.session.id, "event_id": _wire.new_id(),
                              "at": at or _wire.now(), "category": category},
                             span_id=self.span_id, level=level, name=name, agent=self.agent,
                             message=None if message is None else str(message))
        if data is not None:
            record[RAW] = {"data": self.session.client.payload("data", data)}
        self.session.client.send(record)

    def log(self, message, level="info", **data):
        """A log line; keyword arguments become its data."""
        self.event(message, level=level, data=data or None)

    def decision(self, name, message=None, data=None):
        """A decision the agent took (`plan_revision`, `escalation` ...), with why."""
        self.event(message, category="decision", name=name, data=data)

    def edge(self, kind, *, to_agent=None, to_span=None, from_agent=None, from_span=None, label=None, at=None):
        """A relation that is not parent and child; the from end defaults to here."""
        if kind not in EDGE_KINDS:
            raise ValueError(f"flightdeck: edge kind {kind!r} is not one of {', '.join(EDGE_KINDS)}")
        if to_agent is None and to_span is None:
            raise ValueError("flightdeck: an edge needs to_agent or to_span")
        from_agent = from_agent or self.agent
        from_span = from_span or self.span_id
        if from_agent is None and from_span is None:
            raise ValueError("flightdeck: an edge needs a from end: record it in an agent or span, or pass from_agent")
        edge = {"type": "edge", "session_id": self.session.id, "edge_id": _wire.new_id(), "kind": kind,
                "at": at or _wire.now()}
        self.session.client.send(_wire.given(edge, from_agent=from_agent, from_span=from_span, to_agent=to_agent,
                                             to_span=_id_of(to_span), label=label))

    def delegate(self, to_agent, label=None, *, to_span=None):
        """This agent hands work to `to_agent`."""
        self.edge("delegation", to_agent=to_agent, to_span=to_span, label=label)

    def message_to(self, to_agent, label=None, *, to_span=None):
        """This agent sends a message to `to_agent`."""
        self.edge("message", to_agent=to_agent, to_span=to_span, label=label)

    def metric(self, name, value, *, unit=None, labels=None, at=None):
        """A point of the time series `name`, in this session."""
        send_metric(self.session.client, name, value, session_id=self.session.id, unit=unit,
                    labels=labels, at=at)

    def agent_status(self, status=None, *, agent=None, role=None, model=None, task=None):
        """Reports the agent's state; without `status` it is a heartbeat."""
        agent = agent or self.agent
        if not agent:
            raise ValueError("flightdeck: agent_status needs an agent: call it in an agent() or pass agent=")
        send_agent_status(self.session.client, self.session.id, agent, status, role=role, model=model, task=task)


def send_metric(client, name, value, *, session_id=None, unit=None, labels=None, at=None):
    metric = {"type": "metric", "name": name, "value": float(value), "at": at or _wire.now()}
    client.send(_wire.given(metric, session_id=session_id, unit=unit,
                            labels={str(k): str(v) for k, v in labels.items()} if labels else None))


def send_agent_status(client, session_id, agent, status=None, *, role=None, model=None, task=None):
    if status is not None and status not in AGENT_STATES:
        raise ValueError(f"flightdeck: agent status {status!r} is not one of {', '.join(AGENT_STATES)}")
    report = {"type": "agent.status", "session_id": session_id, "agent": agent, "at": _wire.now()}
    client.send(_wire.given(report, status=status, role=role, model=model, task=task))


def _id_of(span):
    return getattr(span, "span_id", span)
