"""One shape for sessions, agents and spans: a context manager (`with`, `async with`) that is
also a decorator of every kind of function.

A scope opens a handle (a `Session` or a `Span`), makes it current for the code inside, and
closes it with the outcome: the return value, or the exception, which is re-raised. As a
decorator it opens one handle per call; for generators and async generators the handle stays
open while the caller iterates, is current only while the generator's own code runs (never
leaking into the caller between items), and receives each yielded item.
"""

import functools
import inspect

from . import _context

NOTHING = object()


class Scope:
    """Subclasses define `_open(call)`, `_frame(handle)` and `_close(handle, error, result)`."""

    def _open(self, call):  # pragma: no cover - abstract
        raise NotImplementedError

    def _frame(self, handle):  # pragma: no cover - abstract
        raise NotImplementedError

    def _close(self, handle, error, result):  # pragma: no cover - abstract
        raise NotImplementedError

    def _item(self, handle, item):
        """A generator under this scope yielded `item`."""

    # -- with / async with -----------------------------------------------------------------

    def __enter__(self):
        handle = self._open(None)
        self.__dict__.setdefault("_stack", []).append((handle, _context.set(self._frame(handle))))
        return handle

    def __exit__(self, kind, error, tb):
        handle, token = self._stack.pop()
        _context.reset(token)
        self._close(handle, error, NOTHING)
        return False

    async def __aenter__(self):
        return self.__enter__()

    async def __aexit__(self, kind, error, tb):
        return self.__exit__(kind, error, tb)

    # -- decorator ---------------------------------------------------------------------------

    def __call__(self, fn):
        if isinstance(fn, (classmethod, staticmethod)):  # decorated above @classmethod
            return type(fn)(self(fn.__func__))
        if inspect.isasyncgenfunction(fn):
            wrapper = _async_generator(self, fn)
        elif inspect.iscoroutinefunction(fn):
            wrapper = _coroutine(self, fn)
        elif inspect.isgeneratorfunction(fn):
            wrapper = _generator(self, fn)
        elif callable(fn):
            wrapper = _function(self, fn)
        else:
            raise TypeError(f"flightdeck: cannot decorate {fn!r}: not a function")
        return functools.wraps(fn)(wrapper)


class Call:
    """A decorated function's call, for scopes that name themselves after it or record its arguments."""

    __slots__ = ("fn", "args", "kwargs")

    def __init__(self, fn, args, kwargs):
        self.fn = fn
        self.args = args
        self.kwargs = kwargs

    @property
    def name(self):
        return getattr(self.fn, "__qualname__", None) or getattr(self.fn, "__name__", "call")

    def arguments(self):
        """The arguments by parameter name, less `self` and `cls`."""
        try:
            sig = _signature(self.fn)
            bound = sig.bind_partial(*self.args, **self.kwargs).arguments
        except (TypeError, ValueError):
            return {"args": list(self.args), "kwargs": self.kwargs}
        params = list(sig.parameters)
        if params and params[0] in ("self", "cls") and params[0] in bound:
            bound = dict(bound)
            del bound[params[0]]
        return dict(bound)


@functools.lru_cache(maxsize=4096)
def _signature(fn):
    return inspect.signature(fn)


class _Run:
    """One decorated call's handle: opened when made, closed when its `with` ends, with the
    value given to `returned()`, or the exception (a generator closed early is no failure)."""

    __slots__ = ("scope", "handle", "frame", "result")

    def __init__(self, scope, fn, args, kwargs):
        self.scope = scope
        self.handle = scope._open(Call(fn, args, kwargs))
        self.frame = scope._frame(self.handle)
        self.result = NOTHING

    def returned(self, result):
        self.result = result
        return result

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        failed = error is not None and not isinstance(error, GeneratorExit)
        self.scope._close(self.handle, error if failed else None, self.result)
        return False


class _Current:
    """Makes `frame` current for the code inside the `with`."""

    __slots__ = ("frame", "token")

    def __init__(self, frame):
        self.frame = frame

    def __enter__(self):
        self.token = _context.set(self.frame)

    def __exit__(self, kind, error, tb):
        _context.reset(self.token)
        return False


def _function(scope, fn):
    def wrapper(*args, **kwargs):
        with _Run(scope, fn, args, kwargs) as run, _Current(run.frame):
            return run.returned(fn(*args, **kwargs))

    return wrapper


def _coroutine(scope, fn):
    async def wrapper(*args, **kwargs):
        with _Run(scope, fn, args, kwargs) as run, _Current(run.frame):
            return run.returned(await fn(*args, **kwargs))

    return wrapper


def _generator(scope, fn):
    # Drives the generator step by step, so its frame is current only inside each step; what
    # the caller sends or throws in is handed on.
    def wrapper(*args, **kwargs):
        with _Run(scope, fn, args, kwargs) as run:
            gen = fn(*args, **kwargs)
            step, value = gen.send, None
            while True:
                with _Current(run.frame):
                    try:
                        item = step(value)
                    except StopIteration as stop:
                        return stop.value
                scope._item(run.handle, item)
                try:
                    value, step = (yield item), gen.send
                except GeneratorExit:
                    with _Current(run.frame):
                        gen.close()
                    raise
                except BaseException as e:
                    value, step = e, gen.throw

    return wrapper


def _async_generator(scope, fn):
    async def wrapper(*args, **kwargs):
        with _Run(scope, fn, args, kwargs) as run:
            agen = fn(*args, **kwargs)
            step, value = agen.asend, None
            while True:
                with _Current(run.frame):
                    try:
                        item = await step(value)
                    except StopAsyncIteration:
                        return
                scope._item(run.handle, item)
                try:
                    value, step = (yield item), agen.asend
                except GeneratorExit:
                    with _Current(run.frame):
                        await agen.aclose()
                    raise
                except BaseException as e:
                    value, step = e, agen.athrow

    return wrapper
