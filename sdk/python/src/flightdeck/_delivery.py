"""The delivery thread: a bounded buffer drained into batches, sent, retried, spooled.

Callers only append to a deque under a lock (`put`), never wait, and a full buffer drops the
message and counts it (with one warning). The thread closes a batch when it holds `max_batch`
messages, when `linger` has passed since its first, or when a flush asks; it encodes the
messages to JSON there, off the callers' threads. A batch the server cannot take now
(unreachable, 408, 429, 5xx) goes to the backlog (the spool files, or memory) with everything
after it, in order; the backlog is sent from its oldest line with capped, jittered,
exponential backoff that waits at least the server's `Retry-After`. A batch refused as too
large (413) is halved; refused messages the server names are dropped and counted, and the
rest of their batch is sent.
"""

import collections
import logging
import random
import threading
import time

from . import _wire
from ._transport import Answer

log = logging.getLogger("flightdeck")

MAX_RETRY_AFTER = 60.0


def ndjson(lines):
    """The request body of the native endpoint: one message per line."""
    return ("\n".join(lines) + "\n").encode()


class _Marker:
    """A flush (or the final stop) waiting in the buffer behind the messages before it."""

    __slots__ = ("done", "delivered", "stop")

    def __init__(self, stop=False):
        self.done = threading.Event()
        self.delivered = False
        self.stop = stop


class Stats:
    """Counters of one client, as `flightdeck.stats()` returns them."""

    __slots__ = ("accepted", "dropped", "sent", "batches", "rejected", "retries", "spooled", "pending")

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name, 0))

    def __repr__(self):
        return "Stats(" + ", ".join(f"{n}={getattr(self, n)}" for n in self.__slots__) + ")"


class Delivery:
    """One buffer and the thread that empties it into `transport`."""

    def __init__(self, transport, backlog, *, capacity, max_batch, linger, backoff=(0.1, 5.0), body=None):
        self._transport = transport
        self._body = body or ndjson
        self._backlog = backlog
        self._capacity = capacity
        self._max_batch = max_batch
        self._linger = linger
        self._backoff = backoff
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._buffer = collections.deque()
        self._urgent = False
        self._closed = False
        self._thread = None
        self._attempt = 0
        self._retry_at = 0.0
        self._waiting = []  # flushes taken from the buffer, released once the backlog is empty
        self._warned_full = False
        self.stats = Stats()
        self.on_start = None  # called when the thread starts (in a forked child: exit hooks)

    # -- callers' side ---------------------------------------------------------------------

    def put(self, message):
        """Buffers `message`; False (and counted) when the buffer is full or closed."""
        with self._lock:
            n = len(self._buffer)
            if n >= self._capacity or self._closed:
                self.stats.dropped += 1
                full = not self._closed and not self._warned_full
                self._warned_full = self._warned_full or full
            else:
                self._buffer.append(message)
                self.stats.accepted += 1
                if n == 0 or n + 1 == self._max_batch:
                    self._wake.notify()
                if self._thread is None:
                    self._start()
                return True
        if full:
            log.warning(
                "flightdeck: the send buffer is full (%d messages); dropping new ones (counted in stats().dropped)",
                self._capacity,
            )
        return False

    def flush(self, timeout):
        """Waits until everything buffered before the call is delivered; False on timeout."""
        marker = self._mark(_Marker())
        if marker is None:
            return self.pending() == 0
        return marker.done.wait(timeout) and marker.delivered

    def shutdown(self, timeout):
        """Delivers what is buffered (or spools it), then stops; True when nothing was left behind."""
        marker = self._mark(_Marker(stop=True), close=True)
        if marker is None:
            return True
        if not marker.done.wait(timeout):
            log.warning("flightdeck: %d message(s) not delivered at shutdown (timed out)", self.pending())
            return False
        return marker.delivered

    def start_for_leftovers(self):
        """Starts the thread now when the spool holds files of earlier processes, to send them."""
        leftovers = getattr(self._backlog, "leftovers", None)
        if leftovers is not None and leftovers():
            with self._lock:
                if self._thread is None:
                    self._start()

    def pending(self):
        return len(self._buffer) + len(self._backlog)

    def snapshot(self):
        stats = Stats(**{n: getattr(self.stats, n) for n in Stats.__slots__})
        stats.pending = self.pending()
        return stats

    def _mark(self, marker, close=False):
        with self._lock:
            if self._closed:
                return None
            self._closed = close
            if self._thread is None and not self._buffer and not len(self._backlog):
                return None  # nothing was ever sent: nothing to wait for
            self._buffer.append(marker)
            self._urgent = True
            self._wake.notify()
            if self._thread is None:
                self._start()
        return marker

    def _start(self):
        if self.on_start is not None:
            self.on_start()
        self._thread = threading.Thread(target=self._run, name="flightdeck-delivery", daemon=True)
        self._thread.start()

    # -- the delivery thread ---------------------------------------------------------------

    def _run(self):
        adopt = getattr(self._backlog, "adopt", None)
        if adopt is not None:
            try:
                if adopt():
                    log.info("flightdeck: sending %d spooled message(s) left by earlier processes", len(self._backlog))
            except OSError as e:
                log.warning("flightdeck: could not read the spool: %s", e)
        while True:
            messages, markers = self._take()
            stop = any(m.stop for m in markers)
            try:
                self._step([_wire.line(m) for m in messages], stop)
            except Exception:  # noqa: BLE001 - a bug here must not stop delivery for good
                log.exception("flightdeck: delivery failed unexpectedly; %d message(s) lost", len(messages))
                self._count_dropped(len(messages))
            self._waiting.extend(markers)
            if not len(self._backlog) or stop:
                for m in self._waiting:
                    m.delivered = not len(self._backlog)
                    m.done.set()
                self._waiting.clear()
            if stop:
                self._stop()
                return

    def _step(self, lines, stop):
        if lines:
            if stop and self._backlog.durable:
                self._spool(lines)  # on disk first: an exit cut short by its timeout loses nothing
            else:
                self._deliver(lines)
        if len(self._backlog) and (stop or time.monotonic() >= self._retry_at):
            while self._drain_once() and stop and len(self._backlog):
                pass  # at the stop, the whole backlog while the server takes it

    def _count_dropped(self, n):
        with self._lock:
            self.stats.dropped += n

    def _stop(self):
        """Lets go of the backlog: a spool stays on disk for the next process; memory is lost."""
        left = len(self._backlog)
        if left and self._backlog.durable:
            log.warning(
                "flightdeck: the server is unreachable; %d message(s) stay in the spool %s "
                "(sent by the next process, or by `python -m flightdeck send`)",
                left,
                self._backlog.directory,
            )
        elif left:
            self._count_dropped(left)
            log.warning("flightdeck: the server is unreachable; %d message(s) lost at shutdown", left)
        self._backlog.close()
        self._transport.close()

    def _take(self):
        """Waits for work and takes the next batch: (messages, flush markers)."""
        with self._lock:
            while not self._buffer:
                if len(self._backlog):
                    wait = self._retry_at - time.monotonic()
                    if wait <= 0:
                        return [], []
                    self._wake.wait(wait)
                else:
                    self._wake.wait()
            if len(self._buffer) < self._max_batch and not self._urgent:
                deadline = time.monotonic() + self._linger
                while len(self._buffer) < self._max_batch and not self._urgent:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._wake.wait(left)
            self._urgent = False
            messages, markers = [], []
            buffer = self._buffer
            while buffer and len(messages) < self._max_batch:
                item = buffer.popleft()
                if isinstance(item, _Marker):
                    markers.append(item)
                    break
                messages.append(item)
        return messages, markers

    def _deliver(self, lines):
        if len(self._backlog):
            self._spool(lines)
            return
        left, answer = self._send(lines)
        if left:
            self._spool(left)
            self._failed(answer)

    def _drain_once(self):
        """Sends the backlog's oldest batch; True when it went."""
        lines = self._backlog.peek(self._max_batch)
        if not lines:
            return False
        left, answer = self._send(lines)
        if left:
            self._failed(answer)  # the whole chunk goes again: what passed is merged once
            return False
        self._backlog.pop(len(lines))
        if self._attempt:
            log.info("flightdeck: the server is back; delivered after %d retries", self._attempt)
        self._attempt = 0
        self._retry_at = 0.0
        return True

    def _spool(self, lines):
        try:
            lost = self._backlog.append(lines)
        except OSError as e:
            lost = len(lines)
            log.warning("flightdeck: could not write the spool (%s); %d message(s) lost", e, lost)
        self.stats.spooled += len(lines) - lost
        self._count_dropped(lost)

    def _failed(self, answer):
        """Schedules the next try after a transient failure."""
        initial, cap = self._backoff
        delay = min(cap, initial * (2 ** min(self._attempt, 20)))
        delay *= 0.5 + random.random() / 2  # jitter into the upper half
        if answer.retry_after is not None:
            delay = max(delay, min(answer.retry_after, MAX_RETRY_AFTER))
        self._attempt += 1
        self.stats.retries += 1
        self._retry_at = time.monotonic() + delay
        if self._attempt & (self._attempt - 1) == 0:  # 1, 2, 4, 8 ...: warn, but not every time
            log.warning(
                "flightdeck: delivery failed (%s); %d message(s) waiting%s, retrying in %.1f s",
                answer.reason,
                len(self._backlog),
                " in the spool" if self._backlog.durable else "",
                delay,
            )

    def _send(self, lines):
        """Sends `lines`, halving on 413 and dropping what the server refuses.

        Returns (the lines not sent because of a transient failure, that failure's answer)."""
        parts = collections.deque([lines])
        while parts:
            part = parts.popleft()
            answer = self._transport.post(self._body(part))
            if answer.kind == Answer.OK:
                self.stats.sent += len(part)
                self.stats.batches += 1
            elif answer.kind == Answer.TRANSIENT:
                left = list(part)
                for rest in parts:
                    left.extend(rest)
                return left, answer
            elif answer.kind == Answer.TOO_LARGE and len(part) > 1:
                half = len(part) // 2
                parts.extendleft([part[half:], part[:half]])
            else:
                invalid = {i for i in answer.invalid if 0 <= i < len(part)}
                refused = len(invalid) if invalid else len(part)
                self.stats.rejected += refused
                log.warning("flightdeck: the server refused %d message(s): %s", refused, answer.reason)
                if invalid:
                    rest = [line for i, line in enumerate(part) if i not in invalid]
                    if rest:
                        parts.appendleft(rest)
        return [], None
