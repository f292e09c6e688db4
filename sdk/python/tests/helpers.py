"""Small helpers the tests share."""

import os
import subprocess
import sys


def flushed(fd):
    assert fd.flush(10), f"flush timed out: {fd.stats()}"


def run_script(code, env, timeout=60):
    """Runs `code` in a fresh interpreter with `env` added; returns the completed process."""
    return subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout)
