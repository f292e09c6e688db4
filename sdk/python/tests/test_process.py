"""The process figures through the real server: CPU, memory and threads always; the GPUs when
`nvidia-smi` is on the PATH (here a stand-in script that answers as the real one does,
`--format=csv,noheader,nounits`), under the server's own GPU metric names; nothing GPU
without it."""

import os
import stat
import sys

from helpers import flushed

# Two devices: one reporting everything, one with nvidia-smi's "[N/A]" where it cannot say.
# The compute apps name the test's own process (the script's parent) on the first device,
# and a stranger on the second.
FAKE_SMI = """#!/bin/sh
case "$1" in
  --query-gpu=*)
    echo "0, GPU-aaaa, 37, 12, 1024, 81559, 41, 71.50"
    echo "1, GPU-bbbb, [N/A], [N/A], 0, 16384, 30, [N/A]" ;;
  --query-compute-apps=*)
    echo "$PPID, GPU-aaaa, 512"
    echo "999999, GPU-bbbb, 100" ;;
esac
"""


def _sample_once(fd, agent):
    with fd.session("process figures") as s:
        fd.process_metrics(interval=3600, agent=agent).stop()  # stop() takes a last sample
    flushed(fd)
    return s


def test_gpu_figures_are_read_from_nvidia_smi_under_the_servers_names(fd, server, tmp_path, monkeypatch):
    smi = tmp_path / "bin" / "nvidia-smi"
    smi.parent.mkdir()
    smi.write_text(FAKE_SMI)
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{smi.parent}{os.pathsep}{os.environ['PATH']}")
    s = _sample_once(fd, "trainer")

    def by_gpu(name):
        points = server.metrics(name, session_id=s.id)
        assert all(p["labels"]["pid"] == str(os.getpid()) and p["labels"]["agent"] == "trainer" for p in points)
        return {p["labels"]["gpu"]: (p["value"], p["unit"]) for p in points}

    assert by_gpu("gpu.utilization") == {"0": (0.37, "1")}
    assert by_gpu("gpu.memory.utilization") == {"0": (0.12, "1")}
    assert by_gpu("gpu.memory.usage") == {"0": (1024 * 2**20, "By"), "1": (0.0, "By")}
    assert by_gpu("gpu.memory.limit") == {"0": (81559 * 2**20, "By"), "1": (16384 * 2**20, "By")}
    assert by_gpu("gpu.temperature") == {"0": (41.0, "Cel"), "1": (30.0, "Cel")}
    assert by_gpu("gpu.power") == {"0": (71.5, "W")}
    assert by_gpu("gpu.process.memory.usage") == {"0": (512 * 2**20, "By")}
    assert server.metrics("process.thread.count", session_id=s.id)


def test_without_nvidia_smi_no_gpu_figure_is_sent(fd, server, monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable))
    s = _sample_once(fd, "trainer")
    assert server.metrics("process.thread.count", session_id=s.id)
    assert server.get("/api/v1/metrics", prefix="gpu.", session_id=s.id) == []
