"""The client: settings, the delivery thread, the process's implicit session, exit and fork.

`init()` makes the default client that every recording function uses; without it, the first
recording makes one from the environment (`FLIGHTDECK_URL`, `FLIGHTDECK_TOKEN`). At exit the
client ends the implicit session and flushes (then spools what it could not send). A forked
child gets a fresh buffer and delivery thread of its own (the parent sends what it had
buffered), and in a `multiprocessing` child the flush also runs at the child's exit.
"""

import atexit
import hashlib
import logging
import os
import sys
import threading
import weakref

from . import _context, _wire
from ._delivery import Delivery
from ._spool import FileSpool, MemoryBacklog
from ._transport import HttpTransport

DEFAULT_URL = "http://127.0.0.1:7329"

log = logging.getLogger("flightdeck")


def default_spool_dir(url, base=None):
    """`<base>/<hash of the URL>`; the base is `$FLIGHTDECK_SPOOL_DIR`, else `~/.cache/flightdeck/spool`."""
    base = base or os.environ.get("FLIGHTDECK_SPOOL_DIR")
    if not base:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(cache, "flightdeck", "spool")
    return os.path.join(base, hashlib.sha256(url.encode()).hexdigest()[:12])


class Client:
    """Sends what the process records to one Flightdeck server."""

    def __init__(
        self,
        url=None,
        token=None,
        *,
        capture=True,
        redact=None,
        spool=True,
        capacity=100_000,
        max_batch=1000,
        linger=0.05,
        request_timeout=10.0,
        exit_timeout=5.0,
        heartbeat=10.0,
        max_payload_chars=1_000_000,
        propagate=True,
        session_name=None,
    ):
        self.url = url or os.environ.get("FLIGHTDECK_URL") or DEFAULT_URL
        self.token = token if token is not None else os.environ.get("FLIGHTDECK_TOKEN")
        self.capture = capture
        self.redact = redact
        self.heartbeat_interval = heartbeat
        self.exit_timeout = exit_timeout
        self.max_payload_chars = max_payload_chars
        self._spool = spool
        self._delivery_options = dict(capacity=capacity, max_batch=max_batch, linger=linger)
        self._request_timeout = request_timeout
        self._session_name = session_name
        self._implicit = None
        self._implicit_lock = threading.Lock()
        self._closed = False
        self._pid = os.getpid()
        self.delivery = self._new_delivery()
        self.delivery.start_for_leftovers()
        from ._agents import Heartbeat

        self.heartbeat = Heartbeat(self)
        if propagate:
            _context.propagate()
        _clients.add(self)

    def _new_delivery(self):
        transport = HttpTransport(self.url, self.token, self._request_timeout)
        if self._spool:
            directory = self._spool if isinstance(self._spool, str) else default_spool_dir(self.url)
            backlog = FileSpool(directory)
        else:
            backlog = MemoryBacklog(self._delivery_options["capacity"])
        return Delivery(transport, backlog, **self._delivery_options)

    # -- recording -------------------------------------------------------------------------

    def send(self, message):
        """Buffers one protocol message (a dict); never blocks. False when it was dropped."""
        return self.delivery.put(message)

    def payload(self, field, value):
        """`value` as JSON text for the payload `field`, after the redaction hook."""
        if self.redact is not None:
            try:
                value = self.redact(field, value)
            except Exception as e:  # noqa: BLE001 - never send what the hook was to hide
                log.warning("flightdeck: the redaction hook failed on %s (%r); the payload is left out", field, e)
                value = f"[redaction failed: {type(e).__name__}]"
        return _wire.encode(value, self.max_payload_chars)

    def implicit_session(self):
        """The session of work recorded outside any `session()`: one per process, started on first use."""
        session = self._implicit
        if session is None:
            with self._implicit_lock:
                if self._implicit is None:
                    from ._session import Session

                    name = self._session_name or f"{_script_name()} (pid {os.getpid()})"
                    self._implicit = Session(self, _wire.new_session_id(), name, owner=os.getpid())
                session = self._implicit
        return session

    # -- delivery control ------------------------------------------------------------------

    def flush(self, timeout=10.0):
        """Waits until everything recorded so far is acknowledged by the server; False on timeout."""
        return self.delivery.flush(timeout)

    def stats(self):
        return self.delivery.snapshot()

    def close(self, timeout=None):
        """Ends the implicit session, delivers what is buffered, and stops. Idempotent."""
        if self._closed:
            return True
        self._closed = True
        self.heartbeat.stop()
        if self._implicit is not None and self._implicit.owner == os.getpid():
            self._implicit.end()
        return self.delivery.shutdown(self.exit_timeout if timeout is None else timeout)

    def _after_fork_in_child(self):
        self._pid = os.getpid()
        self._implicit_lock = threading.Lock()
        self.delivery = self._new_delivery()
        self.delivery.on_start = self._register_child_exit
        self.heartbeat = type(self.heartbeat)(self)

    def _register_child_exit(self):
        # multiprocessing children leave through os._exit, past atexit: its finalizers still run.
        util = sys.modules.get("multiprocessing.util")
        if util is not None:
            util.Finalize(None, self.close, exitpriority=100)


def _script_name():
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.basename(path) if path else "python"


_clients = weakref.WeakSet()
_default = None
_default_lock = threading.Lock()


def init(**options):
    """Makes the default client (closing a previous one); see `Client` for the options."""
    global _default
    with _default_lock:
        old, _default = _default, Client(**options)
    if old is not None:
        old.close()
    return _default


def client():
    """The default client, made from the environment on first use."""
    c = _default
    if c is None:
        with _default_lock:
            c = _default
            if c is None:
                c = globals()["_default"] = Client()
    return c


@atexit.register
def _at_exit():
    for c in list(_clients):
        try:
            c.close()
        except Exception:  # noqa: BLE001 - exit must go on
            log.exception("flightdeck: flushing at exit failed")


def _after_fork_in_child():
    for c in list(_clients):
        if not c._closed:
            c._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
