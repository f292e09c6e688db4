"""Flightdeck's Python SDK: live tracing of multi-agent LLM systems, standard library only.

```python
import flightdeck as fd
fd.init()                                    # FLIGHTDECK_URL, FLIGHTDECK_TOKEN
with fd.session("heist #4", tags=["nightly"]):
    with fd.agent("planner"):
        plan = decompose(goal)               # @fd.llm(model="gpt-4o"), @fd.tool, @fd.span(kind=...)
```

Every function here returns at once: messages go to a bounded buffer that a background
thread sends in batches (see `_delivery`). The guide is sdk/python/README.md.
"""

from . import _context
from ._agents import AgentScope, AgentSpan
from ._client import Client, client, init
from ._delivery import Stats
from ._logging import LoggingHandler
from ._queue import Queue
from ._replay import replay_base_url
from ._review import ReviewRefused, review
from ._session import Session, SessionScope, current_recorder, current_session
from ._spans import KINDS, Span, SpanScope
from ._version import __version__

__all__ = [
    "review",
    "ReviewRefused",
    "AgentSpan", "Client", "KINDS", "LoggingHandler", "Queue", "Session", "Span", "Stats", "__version__",
    "agent", "agent_status", "chain", "client", "current_session", "current_span", "decision", "delegate",
    "event", "flush", "init", "instrument_anthropic", "instrument_openai", "llm", "log", "message_to",
    "metric", "process_metrics", "queue", "replay_base_url", "retriever", "score", "session", "shutdown", "span",
    "stats", "tool",
]


def _scope_or_decorated(scope_class, args, options):
    """`@fd.tool` (bare, the function is the argument), `@fd.tool("name")`, `with fd.tool("name")`."""
    if len(args) == 1 and callable(args[0]) and not isinstance(args[0], str):
        return scope_class(**options)(args[0])
    return scope_class(*args, **options)


def session(*args, **options):
    """A session: `with fd.session("name", tags=[...], metadata={...}, budget={"cost_usd": 2}):`, or a decorator.

    `id=` sets the session id; with `join=True` work is filed under a session started elsewhere."""
    return _scope_or_decorated(SessionScope, args, options)


def agent(*args, **options):
    """An agent's turn: `with fd.agent("planner", role=..., model=..., task=...) as a:`, or a decorator."""
    return _scope_or_decorated(AgentScope, args, options)


def span(*args, kind="custom", **options):
    """A span of any kind (`agent`, `llm`, `tool`, `chain`, `retriever`, `custom`): context manager or decorator.

    Options: `name`, `model`, `provider`, `input`, `params`, `attributes`, `agent`, and
    `capture=False` to leave a decorated function's arguments and return value out."""
    options["kind"] = kind
    return _scope_or_decorated(SpanScope, args, options)


def llm(*args, **options):
    """An LLM call: `@fd.llm(model="gpt-4o", provider="openai")`; record usage with `span.usage(...)`."""
    return span(*args, kind="llm", **options)


def tool(*args, **options):
    """A tool call: `@fd.tool` or `with fd.tool("scan_cameras", input={...}):`."""
    return span(*args, kind="tool", **options)


def chain(*args, **options):
    """A step of a pipeline or workflow."""
    return span(*args, kind="chain", **options)


def retriever(*args, **options):
    """A retrieval (vector search, lookup); its output is conventionally a list of documents."""
    return span(*args, kind="retriever", **options)


def current_span():
    """The span the calling code runs in, or None."""
    frame = _context.get()
    return frame.span if frame is not None else None


# -- records at the current place: the current span, else session --------------------------


def event(message=None, **options):
    """An event (`category`, `level`, `name`, `data`) of the current span or session."""
    current_recorder().event(message, **options)


def log(message, level="info", **data):
    """A log line of the current span or session; keyword arguments become its data."""
    current_recorder().log(message, level, **data)


def decision(name, message=None, data=None):
    """A decision (`plan_revision`, `escalation` ...) of the current agent."""
    current_recorder().decision(name, message, data)


def delegate(to_agent, label=None, **options):
    """A delegation edge from the current agent (and span) to `to_agent`."""
    current_recorder().delegate(to_agent, label, **options)


def message_to(to_agent, label=None, **options):
    """A message edge from the current agent (and span) to `to_agent`."""
    current_recorder().message_to(to_agent, label, **options)


def metric(name, value, *, unit=None, labels=None, session=True, at=None):
    """A metric sample, in the current session (`session=False`: a metric of no session)."""
    if session:
        current_session().metric(name, value, unit=unit, labels=labels, at=at)
    else:
        from ._record import send_metric

        send_metric(client(), name, value, unit=unit, labels=labels, at=at)


def score(name, value):
    """A score of the current span."""
    s = current_span()
    if s is None:
        raise RuntimeError("flightdeck: score() outside any span")
    s.score(name, value)


def agent_status(status=None, *, agent=None, role=None, model=None, task=None):
    """Reports an agent's state (`initializing`, `idle`, `active`, `error`); without one, a heartbeat."""
    current_recorder().agent_status(status, agent=agent, role=role, model=model, task=task)


_queues = {}


def queue(name):
    """The queue helper for the queue `name` (one per name and process)."""
    q = _queues.get(name)
    if q is None:
        q = _queues.setdefault(name, Queue(name))
    return q


def process_metrics(interval=10.0, agent=None):
    """Starts sampling this process's CPU, memory and threads; returns a handle with `stop()`."""
    from ._process import ProcessMetrics

    return ProcessMetrics(interval, agent)


# -- delivery ----------------------------------------------------------------------------------


def flush(timeout=10.0):
    """Waits until everything recorded so far is acknowledged by the server; False on timeout."""
    return client().flush(timeout)


def shutdown(timeout=None):
    """Ends the implicit session, delivers what is left and stops (also done at exit)."""
    return client().close(timeout)


def stats():
    """Counters: accepted, dropped, sent, batches, rejected, retries, spooled, pending."""
    return client().stats()


# -- integrations, imported only when used -----------------------------------------------------


def instrument_openai(openai_client, **options):
    """Records every chat completion and Responses API call of this `OpenAI` / `AsyncOpenAI` client."""
    from .integrations.openai import instrument

    return instrument(openai_client, **options)


def instrument_anthropic(anthropic_client, **options):
    """Records every `messages.create` of this `Anthropic` / `AsyncAnthropic` client."""
    from .integrations.anthropic import instrument

    return instrument(anthropic_client, **options)


def __getattr__(name):
    if name == "otel":  # flightdeck.otel needs opentelemetry-sdk: imported on first use
        import importlib

        return importlib.import_module(".otel", __name__)
    raise AttributeError(f"module 'flightdeck' has no attribute {name!r}")
