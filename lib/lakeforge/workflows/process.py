"""Run one task's command as a child process group, with a timeout and its output in a log file."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

GRACE_SECONDS = 15  # after SIGTERM, before SIGKILL: spark-submit stops its driver and executors


class TaskError(RuntimeError):
    """A task's command failed or ran out of time."""


def log_tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL, to the whole process group: spark-submit's JVM and the Python driver it started."""
    for signum, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_logged(argv: list[str], env: dict[str, str], timeout_seconds: float, log: Path, cwd: str | None = None) -> None:
    """Run argv to completion; raise TaskError with the log's tail if it fails or outlives the timeout."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as output:
        process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            stop_group(process)
            raise TaskError(f"timed out after {timeout_seconds:g} s and was stopped; log {log}:\n{log_tail(log)}") from None
        except BaseException:
            stop_group(process)
            raise
    if code != 0:
        raise TaskError(f"exited with status {code}; log {log}:\n{log_tail(log)}")
