"""The agent process's own figures (CPU and memory), from the standard library alone.

`process_metrics()` starts a thread that samples every `interval` seconds and sends:

- `process.cpu.utilization`: CPU time (user + system) over wall time since the last sample,
  in cores (1.0 = one core busy; `resource.getrusage`);
- `process.memory.usage`: resident memory in bytes (`/proc/self/statm` on Linux; elsewhere the
  peak from `getrusage`, reported as `process.memory.max_rss`);
- `process.thread.count`: live Python threads.

Samples carry the labels `pid` and, when given, `agent`; they belong to the current session
when started inside one, else to no session (a system metric).
"""

import os
import sys
import threading
import time

from . import _context
from ._client import client as _default_client
from ._record import send_metric

try:
    import resource
except ImportError:  # Windows
    resource = None

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def sample():
    """One reading: {metric name: value}."""
    figures = {"process.thread.count": float(threading.active_count())}
    rss = _rss()
    if rss is not None:
        figures["process.memory.usage"] = float(rss)
    elif resource is not None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        figures["process.memory.max_rss"] = float(peak if sys.platform == "darwin" else peak * 1024)
    return figures


def _rss():
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def _cpu_seconds():
    if resource is None:
        t = os.times()
        return t.user + t.system
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class ProcessMetrics:
    """The sampling thread; `stop()` takes a last sample and ends it."""

    def __init__(self, interval=10.0, agent=None):
        frame = _context.get()
        self._session_id = frame.session.id if frame is not None else None
        self._client = frame.session.client if frame is not None else _default_client()
        self._labels = {"pid": str(os.getpid())}
        if agent or (frame is not None and frame.agent):
            self._labels["agent"] = agent or frame.agent
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flightdeck-process-metrics", daemon=True)
        self._thread.start()

    def _run(self):
        cpu, wall = _cpu_seconds(), time.monotonic()
        stopped = False
        while not stopped:
            stopped = self._stop.wait(self._interval)  # and a last sample when stopped
            cpu_now, wall_now = _cpu_seconds(), time.monotonic()
            figures = sample()
            figures["process.cpu.utilization"] = (cpu_now - cpu) / max(wall_now - wall, 1e-9)
            cpu, wall = cpu_now, wall_now
            for name, value in figures.items():
                unit = "By" if "memory" in name else ("1" if "cpu" in name else "{thread}")
                send_metric(self._client, name, value, session_id=self._session_id, unit=unit, labels=self._labels)

    def stop(self):
        self._stop.set()
        self._thread.join()
