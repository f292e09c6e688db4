"""The current session, span and agent, in one `contextvars` variable, and its way into threads.

asyncio tasks copy the context by themselves. Threads do not: a `threading.Thread` starts with
an empty context and a `ThreadPoolExecutor` runs work in its workers' contexts. `propagate()`
makes both carry Flightdeck's variable (and only it) from where the thread was started or the
work submitted; it patches `Thread.start` and `ThreadPoolExecutor.submit` once, and leaves
every other context variable alone.
"""

import concurrent.futures
import contextvars
import threading

_current = contextvars.ContextVar("flightdeck", default=None)

get = _current.get
set = _current.set  # noqa: A001 - read as context.set(frame)
reset = _current.reset


class Frame:
    """Where recording happens now: a session, maybe a span in it, maybe an agent."""

    __slots__ = ("session", "span", "agent")

    def __init__(self, session, span, agent):
        self.session = session
        self.span = span
        self.agent = agent


_installed = False


def propagate():
    """Makes new threads and executor work inherit the current frame (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True

    start = threading.Thread.start

    def start_in_frame(self):
        frame = _current.get()
        if frame is not None:
            run = self.run

            def run_in_frame():
                _current.set(frame)
                run()

            self.run = run_in_frame
        start(self)

    start_in_frame.__wrapped__ = start
    threading.Thread.start = start_in_frame

    submit = concurrent.futures.ThreadPoolExecutor.submit

    def submit_in_frame(self, fn, /, *args, **kwargs):
        # Always wrapped: a worker thread keeps the frame of the work that started it.
        return submit(self, _run_in, _current.get(), fn, args, kwargs)

    submit_in_frame.__wrapped__ = submit
    concurrent.futures.ThreadPoolExecutor.submit = submit_in_frame


def _run_in(frame, fn, args, kwargs):
    token = _current.set(frame)
    try:
        return fn(*args, **kwargs)
    finally:
        _current.reset(token)
