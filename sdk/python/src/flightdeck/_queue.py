"""Queue helpers: jobs enqueued, started and done, as native events and metrics.

The naming convention (docs/protocol.md, "Queues") is what server-side queue figures read:

- events of category `queue`, named `job.enqueued`, `job.started`, `job.done`, with
  `data = {"queue", "job_id", ...}` (`wait_ms` on start, `run_ms` and `status` on done), and
  the event id `<queue>:<job_id>:<step>`, so a step reported twice is stored once;
- metrics with the label `queue`: `queue.wait_ms` (at each start), `queue.run_ms` and
  `queue.completed` (value 1, label `status`, at each done), and this process's view of the
  queue after each step, `queue.depth` (enqueued, not started) and `queue.processing`
  (started, not done).

From these, per queue: queued = enqueued jobs without a start; processing = started jobs
without a done; average wait = mean of `queue.wait_ms`; completed in the last hour = count
of `job.done` events (or sum of `queue.completed`) in the hour.
"""

import threading
import time

from . import _context, _wire
from ._record import send_metric
from ._session import current_session
from ._wire import RAW


class Queue:
    """`jobs = flightdeck.queue("coding")`; then `jobs.enqueued(id)`, `jobs.started(id)`, `jobs.done(id)`.

    Times of enqueue and start are remembered in this process, to report the wait and run
    times; pass `enqueued_at=` / `started_at=` (unix seconds) when another process did that step."""

    def __init__(self, name):
        self.name = name
        self._lock = threading.Lock()
        self._enqueued = {}  # job id -> enqueue time (s)
        self._started = {}  # job id -> start time (s)

    def enqueued(self, job_id=None, **data):
        """A job joined the queue; returns its id (a fresh one unless given)."""
        job_id = str(job_id) if job_id is not None else _wire.new_id()
        with self._lock:
            self._enqueued[job_id] = time.time()
        self._report(job_id, "enqueued", data)
        return job_id

    def started(self, job_id, *, enqueued_at=None, **data):
        """A worker took the job."""
        job_id = str(job_id)
        now = time.time()
        with self._lock:
            since = self._enqueued.pop(job_id, enqueued_at)
            self._started[job_id] = now
        if since is not None:
            data["wait_ms"] = (now - since) * 1000.0
            self._metric("queue.wait_ms", data["wait_ms"], unit="ms")
        self._report(job_id, "started", data)

    def done(self, job_id, status="ok", *, started_at=None, **data):
        """The job finished (`status` "ok" or "error")."""
        job_id = str(job_id)
        now = time.time()
        with self._lock:
            since = self._started.pop(job_id, started_at)
            self._enqueued.pop(job_id, None)
        data["status"] = status
        if since is not None:
            data["run_ms"] = (now - since) * 1000.0
            self._metric("queue.run_ms", data["run_ms"], unit="ms")
        self._metric("queue.completed", 1, unit="jobs", status=status)
        self._report(job_id, "done", data)

    def _report(self, job_id, step, data):
        frame = _context.get()
        session = current_session()
        event = {"type": "event", "session_id": session.id, "event_id": f"{self.name}:{job_id}:{step}",
                 "at": _wire.now(), "category": "queue", "name": f"job.{step}",
                 "message": f"{self.name}: job {job_id} {step}"}
        if frame is not None and frame.span is not None:
            event["span_id"] = frame.span.span_id
        if frame is not None and frame.agent:
            event["agent"] = frame.agent
        event[RAW] = {"data": session.client.payload("data", {"queue": self.name, "job_id": job_id, **data})}
        session.client.send(event)
        with self._lock:
            depth, processing = len(self._enqueued), len(self._started)
        self._metric("queue.depth", depth, unit="jobs")
        self._metric("queue.processing", processing, unit="jobs")

    def _metric(self, name, value, unit, **labels):
        session = current_session()
        send_metric(session.client, name, value, session_id=session.id, unit=unit,
                    labels={"queue": self.name, **labels})
