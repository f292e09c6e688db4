"""Spans: units of work in a session's tree, and the scopes that open them.

`span.start` goes out when a span opens, so the span shows as running at once. Progress goes
out as it happens: each `chunk`, `score`, `set_attribute` or `set_input` is one `span.update`
with the span's next `seq`, so the server orders chunks and keeps each once. Output, usage
and cost travel in `span.end`. An exception ends the span as failed, with its traceback.
"""

import itertools
import traceback

from . import _context, _wire
from ._client import client as _default_client
from ._record import Recorder
from ._scope import NOTHING, Scope
from ._wire import RAW

KINDS = ("agent", "llm", "tool", "chain", "retriever", "review", "custom")


def describe(error):
    """An exception as the span's error text: its type and message, then the traceback."""
    head = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    tb = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return f"{head}\n\n{tb}"


class Span(Recorder):
    """A running span. Every method returns at once; `end()` is called by its scope."""

    __slots__ = ("span_id", "parent_id", "kind", "name", "model", "_seq", "_output", "_usage", "_cost",
                 "_streamed", "_items", "_ended", "_end_attributes", "capture")

    def __init__(self, session, kind, name, *, parent_id=None, agent=None, model=None, provider=None,
                 input=NOTHING, params=None, attributes=None, span_id=None, capture=None):
        super().__init__(session, agent)
        client = session.client
        self.span_id = span_id or _wire.new_id()
        self.parent_id = parent_id
        self.kind = kind
        self.name = name
        self.model = model
        self.capture = client.capture if capture is None else capture
        self._seq = itertools.count()  # next() is atomic: chunks from several threads keep distinct seqs
        self._output = NOTHING
        self._usage = None
        self._cost = None
        self._streamed = None
        self._items = None
        self._ended = False
        self._end_attributes = None
        message = _wire.given({"type": "span.start", "session_id": session.id, "span_id": self.span_id,
                               "kind": kind, "name": name, "started_at": _wire.now()},
                              parent_id=parent_id, agent=agent, model=model, provider=provider,
                              attributes=dict(attributes) if attributes else None)
        raw = {}
        if input is not NOTHING and self.capture:
            raw["input"] = client.payload("input", input.value() if isinstance(input, _LazyInput) else input)
        if params:
            raw["params"] = client.payload("params", params)
        if raw:
            message[RAW] = raw
        client.send(message)

    @property
    def id(self):
        return self.span_id

    def _update(self, fields, raw=None):
        message = {"type": "span.update", "session_id": self.session.id, "span_id": self.span_id,
                   "seq": next(self._seq), "at": _wire.now()}
        message.update(fields)
        if raw:
            message[RAW] = raw
        self.session.client.send(message)

    # -- progress ----------------------------------------------------------------------------

    def chunk(self, text):
        """One piece of streamed output, shown at once; the pieces make the output unless set."""
        text = text if isinstance(text, str) else str(text)
        if self._streamed is None:
            self._streamed = []
        self._streamed.append(text)
        self._update({"output_delta": text})

    def stream_item(self, item):
        """A yielded item: text streams as a chunk, anything else as its JSON (the output is their list)."""
        if isinstance(item, str):
            self.chunk(item)
            return
        text = self.session.client.payload("output", item) if self.capture else '"..."'
        if self._items is None:
            self._items = []
        self._items.append(text)
        self._update({"output_delta": text})

    def score(self, name, value):
        """A named score (0 to 1 by convention), shown at once."""
        self._update({"scores": {name: float(value)}})

    def set_attribute(self, key, value):
        self._update({"attributes": {key: value}})

    def set_attributes(self, attributes):
        self._update({"attributes": dict(attributes)})

    def set_input(self, value):
        """Sets (replaces) the span's input."""
        if self.capture:
            self._update({}, {"input": self.session.client.payload("input", value)})

    def set_output(self, value):
        """The span's output, sent with its end."""
        self._output = value

    def usage(self, input_tokens=0, output_tokens=0):
        """Token usage of an LLM call, sent with its end (the cost is priced from it and the model)."""
        self._usage = {"input_tokens": int(input_tokens or 0), "output_tokens": int(output_tokens or 0)}

    def cost(self, usd):
        """The call's cost in US dollars, instead of the server's pricing."""
        self._cost = float(usd)

    def set_attributes_at_end(self, attributes):
        """Attributes sent with the end rather than at once (what is only known from an answer)."""
        self._end_attributes = {**(self._end_attributes or {}), **attributes}

    # -- the end -----------------------------------------------------------------------------

    def end(self, output=NOTHING, *, error=None):
        """Ends the span: ok, or failed with `error` (an exception or a text). Only the first end counts."""
        if self._ended:
            return
        self._ended = True
        if output is not NOTHING:
            self._output = output
        message = {"type": "span.end", "session_id": self.session.id, "span_id": self.span_id,
                   "ended_at": _wire.now(), "status": "ok"}
        if error is not None:
            message["status"] = "error"
            message["error"] = describe(error) if isinstance(error, BaseException) else str(error)
        if self._usage is not None:
            message["usage"] = self._usage
        if self._cost is not None:
            message["cost_usd"] = self._cost
        if self._end_attributes:
            message["attributes"] = self._end_attributes
        if self.capture:
            raw = self._final_output()
            if raw is not None:
                message[RAW] = {"output": raw}
        self.session.client.send(message)

    def fail(self, error):
        """Ends the span as failed."""
        self.end(error=error)

    def _final_output(self):
        if self._output is not NOTHING:
            return self.session.client.payload("output", self._output)
        if self._items is not None:
            streamed = [_wire.encode(t, self.session.client.max_payload_chars) for t in self._streamed or ()]
            return "[" + ",".join(streamed + self._items) + "]"
        if self._streamed is not None:
            return _wire.encode("".join(self._streamed), self.session.client.max_payload_chars)
        return None

    def __repr__(self):
        return f"<flightdeck.Span {self.kind} {self.name!r} {self.span_id}>"


class SpanScope(Scope):
    """`with flightdeck.span(...) as s:` / `@flightdeck.tool` ...: opens a `Span` per use."""

    span_class = Span

    def __init__(self, name=None, *, kind="custom", capture=None, **fields):
        if kind not in KINDS:
            raise ValueError(f"flightdeck: span kind {kind!r} is not one of {', '.join(KINDS)}")
        self.kind = kind
        self.name = name
        self.capture = capture
        self.fields = fields

    def _open(self, call):
        fields = self.fields
        if call is not None and "input" not in fields:
            fields = dict(fields, input=_LazyInput(self, call))
        name = self.name or (call.name if call is not None else self.kind)
        return start_span(self.kind, name, capture=self.capture, span_class=self.span_class, **fields)

    def _input_of(self, call):
        arguments = call.arguments()
        if self.kind == "llm" and "messages" in arguments:
            return arguments["messages"]
        return arguments

    def _frame(self, span):
        return frame_of(span)

    def _item(self, span, item):
        span.stream_item(item)

    def _close(self, span, error, result):
        if error is not None:
            span.end(error=error)
        else:
            span.end(result)


class _LazyInput:
    """A decorated call's arguments, bound only when the span records its input."""

    __slots__ = ("scope", "call")

    def __init__(self, scope, call):
        self.scope = scope
        self.call = call

    def value(self):
        return self.scope._input_of(self.call)


def start_span(kind, name, *, capture=None, span_class=Span, **fields):
    """Starts a span under the current span (or session), as the current agent unless `agent=`."""
    frame = _context.get()
    if frame is None:
        session, parent, agent = _default_client().implicit_session(), None, None
    else:
        session, parent, agent = frame.session, frame.span, frame.agent
    if fields.get("agent") is None:
        fields["agent"] = agent
    return span_class(session, kind, name, parent_id=parent.span_id if parent else None, capture=capture,
                      **fields)


def frame_of(span):
    """The frame in which `span` is the current span."""
    return _context.Frame(span.session, span, span.agent)
