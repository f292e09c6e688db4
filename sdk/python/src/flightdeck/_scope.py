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


def _function(scope, fn):
    def wrapper(*args, **kwargs):
        handle = scope._open(Call(fn, args, kwargs))
        token = _context.set(scope._frame(handle))
        try:
            result = fn(*args, **kwargs)
        except BaseException as e:
            _context.reset(token)
            scope._close(handle, e, NOTHING)
            raise
        _context.reset(token)
        scope._close(handle, None, result)
        return result

    return wrapper


def _coroutine(scope, fn):
    async def wrapper(*args, **kwargs):
        handle = scope._open(Call(fn, args, kwargs))
        token = _context.set(scope._frame(handle))
        try:
            result = await fn(*args, **kwargs)
        except BaseException as e:
            _context.reset(token)
            scope._close(handle, e, NOTHING)
            raise
        _context.reset(token)
        scope._close(handle, None, result)
        return result

    return wrapper


def _generator(scope, fn):
    def wrapper(*args, **kwargs):
        handle = scope._open(Call(fn, args, kwargs))
        frame = scope._frame(handle)
        gen = fn(*args, **kwargs)
        sent, thrown = None, None
        while True:
            token = _context.set(frame)
            try:
                if thrown is not None:
                    item = gen.throw(thrown)
                else:
                    item = gen.send(sent)
            except StopIteration as stop:
                _context.reset(token)
                scope._close(handle, None, NOTHING)
                return stop.value
            except BaseException as e:
                _context.reset(token)
                scope._close(handle, e, NOTHING)
                raise
            _context.reset(token)
            thrown = None
            scope._item(handle, item)
            try:
                sent = yield item
            except GeneratorExit:  # the caller stopped early: that is not a failure
                token = _context.set(frame)
                try:
                    gen.close()
                finally:
                    _context.reset(token)
                    scope._close(handle, None, NOTHING)
                raise
            except BaseException as e:  # thrown in by the caller: hand it to the generator
                thrown, sent = e, None

    return wrapper


def _async_generator(scope, fn):
    async def wrapper(*args, **kwargs):
        handle = scope._open(Call(fn, args, kwargs))
        frame = scope._frame(handle)
        agen = fn(*args, **kwargs)
        sent, thrown = None, None
        while True:
            token = _context.set(frame)
            try:
                if thrown is not None:
                    item = await agen.athrow(thrown)
                else:
                    item = await agen.asend(sent)
            except StopAsyncIteration:
                _context.reset(token)
                scope._close(handle, None, NOTHING)
                return
            except BaseException as e:
                _context.reset(token)
                scope._close(handle, e, NOTHING)
                raise
            _context.reset(token)
            thrown = None
            scope._item(handle, item)
            try:
                sent = yield item
            except GeneratorExit:
                token = _context.set(frame)
                try:
                    await agen.aclose()
                finally:
                    _context.reset(token)
                    scope._close(handle, None, NOTHING)
                raise
            except BaseException as e:
                thrown, sent = e, None

    return wrapper
