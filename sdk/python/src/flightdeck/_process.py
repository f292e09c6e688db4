"""The agent process's own figures (CPU and memory), from the standard library alone.

`process_metrics()` starts a thread that samples every `interval` seconds and sends:

- `process.cpu.utilization`: CPU time (user + system) over wall time since the last sample,
  in cores (1.0 = one core busy; `resource.getrusage`);
- `process.memory.usage`: resident memory in bytes (`/proc/self/statm` on Linux; elsewhere the
  peak from `getrusage`, reported as `process.memory.max_rss`);
- `process.thread.count`: live Python threads;
- where `nvidia-smi` is on the PATH, the NVIDIA GPUs as this process sees them, under the
  names and units of the server's own GPU sampler (label `gpu`, the device index), so one
  chart reads both: `gpu.utilization` and `gpu.memory.utilization` (0..1),
  `gpu.memory.usage` / `.limit` (bytes), `gpu.temperature` (Cel), `gpu.power` (W), and
  `gpu.process.memory.usage` (bytes this process holds on the device). Without `nvidia-smi`,
  or when it fails, nothing GPU is sent.

Samples carry the labels `pid` and, when given, `agent`; they belong to the current session
when started inside one, else to no session (a system metric).
"""

import os
import shutil
import subprocess
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


# nvidia-smi's per-device fields: (its field, metric name, unit, factor to the unit).
_GPU_FIELDS = [
    ("utilization.gpu", "gpu.utilization", "1", 0.01),
    ("utilization.memory", "gpu.memory.utilization", "1", 0.01),
    ("memory.used", "gpu.memory.usage", "By", 2**20),
    ("memory.total", "gpu.memory.limit", "By", 2**20),
    ("temperature.gpu", "gpu.temperature", "Cel", 1.0),
    ("power.draw", "gpu.power", "W", 1.0),
]
_SMI_TIMEOUT = 5.0


def _csv(smi, query, fields):
    """Rows of `nvidia-smi --query-<query>=<fields> --format=csv,noheader,nounits`."""
    out = subprocess.run(
        [smi, f"--query-{query}={','.join(fields)}", "--format=csv,noheader,nounits"],
        capture_output=True, text=True, timeout=_SMI_TIMEOUT, check=True,
    ).stdout
    return [[cell.strip() for cell in line.split(",")] for line in out.splitlines() if line.strip()]


def _number(cell):
    """A figure, or None for nvidia-smi's "[N/A]" and "[Not Supported]"."""
    try:
        return float(cell)
    except ValueError:
        return None


def gpu_sample(smi, pid):
    """One reading of the GPUs through `smi`: [(name, value, unit, {"gpu": index})]; [] on failure."""
    try:
        devices = _csv(smi, "gpu", ["index", "uuid"] + [f[0] for f in _GPU_FIELDS])
        apps = _csv(smi, "compute-apps", ["pid", "gpu_uuid", "used_memory"])
    except (OSError, subprocess.SubprocessError):
        return []
    out = []
    index_of = {}
    for row in devices:
        if len(row) != 2 + len(_GPU_FIELDS):
            continue
        index_of[row[1]] = row[0]
        for (_, name, unit, factor), cell in zip(_GPU_FIELDS, row[2:]):
            value = _number(cell)
            if value is not None:
                out.append((name, value * factor, unit, {"gpu": row[0]}))
    for row in apps:
        if len(row) == 3 and row[0] == str(pid) and row[1] in index_of and _number(row[2]) is not None:
            out.append(("gpu.process.memory.usage", _number(row[2]) * 2**20, "By", {"gpu": index_of[row[1]]}))
    return out


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
        self._smi = shutil.which("nvidia-smi")
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
            for name, value, unit, labels in gpu_sample(self._smi, os.getpid()) if self._smi else []:
                send_metric(self._client, name, value, session_id=self._session_id, unit=unit,
                            labels={**self._labels, **labels})

    def stop(self):
        self._stop.set()
        self._thread.join()
