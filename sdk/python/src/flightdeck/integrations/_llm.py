"""What the OpenAI and Anthropic wrappers share: patching a client's methods, an LLM span per
call, and streams that record each chunk as it passes and end the span when they end.

A wrapper replaces a method on one client's resource object (never on the class, so other
clients stay untouched). An accumulator per API reads answers and stream items into the
span: text chunks stream at once (`span.update`), tool calls and usage are gathered, and the
assistant message, usage and finish reason go with `span.end`. A stream's span ends when
the stream is exhausted, closed, or fails; an abandoned stream's span ends when the stream
is garbage-collected.
"""

import functools
import inspect

from .._spans import start_span

# Request options that are transport settings, not call parameters.
TRANSPORT_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout", "stream"})


def patch(resource, method, make_wrapper):
    """Replaces `resource.method` with `make_wrapper(original)`, once."""
    original = getattr(resource, method, None)
    if original is None or getattr(original, "_flightdeck", False):
        return
    wrapper = functools.wraps(original)(make_wrapper(original))
    wrapper._flightdeck = True
    setattr(resource, method, wrapper)


def params_of(kwargs, skip):
    """The call's parameters: every keyword but the payload ones (`skip`) and transport options."""
    return {k: v for k, v in kwargs.items() if k not in skip and k not in TRANSPORT_OPTIONS} or None


def assistant_message(text, tool_calls):
    message = {"role": "assistant", "content": text or None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return message


def tool_call(call_id, name, arguments):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def wrap_call(accumulator_class, describe):
    """A `make_wrapper` for `patch`: `describe(kwargs)` gives the span's (name, fields).

    Async clients' methods are not always coroutine functions (the packages wrap them), so
    the answer tells: an awaitable is awaited in a coroutine handed back to the caller."""

    def make_wrapper(original):
        def traced(*args, **kwargs):
            acc = accumulator_class(_start(describe, kwargs))
            try:
                answer = original(*args, **kwargs)
            except BaseException as e:
                acc.finish(e)
                raise
            if inspect.isawaitable(answer):
                return _awaited(answer, acc)
            return acc.answered(answer, Stream)

        return traced

    return make_wrapper


async def _awaited(answer, acc):
    try:
        answer = await answer
    except BaseException as e:
        acc.finish(e)
        raise
    return acc.answered(answer, AsyncStream)


def _start(describe, kwargs):
    name, fields = describe(kwargs)
    return start_span("llm", name, **fields)


class Accumulator:
    """Reads one call's answer into its span; subclasses define `read(answer)` and `add(item)`."""

    stream_types = ()  # the package's stream classes

    def __init__(self, span):
        self.span = span
        self.text = []
        self.tool_calls = {}  # index -> {"id", "name", "arguments"}
        self.attributes = {}
        self.usage = None
        self.output = None
        self._done = False

    def answered(self, answer, stream_class):
        if isinstance(answer, self.stream_types):
            return stream_class(answer, self)
        try:
            self.read(answer)
        except Exception as e:  # noqa: BLE001 - a shape we do not know must not break the call
            self.attributes["flightdeck.read_error"] = repr(e)
        self.finish()
        return answer

    def chunk(self, text):
        if text:
            self.text.append(text)
            self.span.chunk(text)

    def finish(self, error=None):
        if self._done:
            return
        self._done = True
        span = self.span
        if self.usage is not None:
            span.usage(*self.usage)
        if self.attributes:
            span.set_attributes_at_end(self.attributes)
        if self.output is None and (self.text or self.tool_calls):
            calls = [tool_call(c["id"], c["name"], c["arguments"]) for _, c in sorted(self.tool_calls.items())]
            self.output = assistant_message("".join(self.text), calls)
        if self.output is not None:
            span.set_output(self.output)
        span.end(error=error)

    def item(self, item):
        try:
            self.add(item)
        except Exception as e:  # noqa: BLE001
            self.attributes["flightdeck.read_error"] = repr(e)


class _Watched:
    """What both stream kinds share: the accumulator, the end of the span, the rest delegated."""

    def __init__(self, inner, acc):
        self._inner = inner
        self._acc = acc
        self._iterator = None

    def _ending(self, exhausted):
        return _Ending(self._acc, exhausted)

    def __del__(self):
        self._acc.finish()

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _Ending:
    """Around one step of a stream: its end (`exhausted`) or failure ends the span."""

    __slots__ = ("acc", "exhausted")

    def __init__(self, acc, exhausted):
        self.acc = acc
        self.exhausted = exhausted

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if error is not None:
            self.acc.finish(None if isinstance(error, self.exhausted) else error)
        return False


class Stream(_Watched):
    """A sync stream that records what passes through it; everything else is the original's."""

    def __iter__(self):
        return self

    def __next__(self):
        with self._ending(StopIteration):
            if self._iterator is None:
                self._iterator = iter(self._inner)
            item = next(self._iterator)
        self._acc.item(item)
        return item

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        self._acc.finish(error)
        self._inner.close()

    def close(self):
        self._acc.finish()
        self._inner.close()


class AsyncStream(_Watched):
    """The async twin of `Stream`."""

    def __aiter__(self):
        return self

    async def __anext__(self):
        with self._ending(StopAsyncIteration):
            if self._iterator is None:
                self._iterator = self._inner.__aiter__()
            item = await self._iterator.__anext__()
        self._acc.item(item)
        return item

    async def __aenter__(self):
        return self

    async def __aexit__(self, kind, error, tb):
        self._acc.finish(error)
        await self._inner.close()

    async def close(self):
        self._acc.finish()
        await self._inner.close()
