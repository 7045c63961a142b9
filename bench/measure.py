"""Run a command and measure wall time and peak memory of its whole process tree."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class Measurement:
    """Wall-clock seconds, peak resident memory of the process tree, exit code, output tail."""

    seconds: float
    peak_rss_bytes: int
    returncode: int
    output_tail: str


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def run_measured(
    command: list[str], interval: float = 0.2, env: Mapping[str, str] | None = None
) -> Measurement:
    """Run `command`, sampling the summed RSS of it and its children (JVM, Python workers)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    peak = 0
    done = threading.Event()
    ps_proc = psutil.Process(proc.pid)

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(ps_proc))
            done.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    tail = "\n".join(output.splitlines()[-15:])
    return Measurement(seconds, peak, proc.returncode, tail)
