"""A server in a child process for the duration of a block: start it with its output in a log
file, wait until it answers, stop it after. Shared by the kit's own server (local_server) and
llama.cpp's llama-server (maintainer.llama_server), which differ only in command and health check."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def child_server(cmd: list[str], log_path: Path, is_up: Callable[[], bool], name: str, timeout: float = 120.0,
                 error: type[Exception] = RuntimeError) -> Iterator[subprocess.Popen]:
    """Run cmd until is_up() holds; raise `error` naming the log if it exits or stays silent."""
    # A file, not a pipe: nobody reads a pipe while the block runs, and a full one stalls the server.
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not is_up():
                if proc.poll() is not None:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise error(f"{name} exited (code {proc.returncode}); log {log_path}:\n{tail}")
                if time.monotonic() > deadline:
                    raise error(f"{name} did not answer within {timeout:.0f} s; log {log_path}")
                time.sleep(0.3)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
