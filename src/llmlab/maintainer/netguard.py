"""A tripwire for tests: once installed, any attempt to resolve a host name or
open an internet socket raises. Audit hooks cannot be removed, so nothing in
the process (SDK, vcrpy, tiktoken) can slip past it. Unix sockets and the
kernel's own ZeroMQ channels (opened in C) are not affected."""

from __future__ import annotations

import socket
import sys

from ..errors import LlmlabError

_BLOCKED = ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex", "socket.sendto")
_installed = False


class NetworkDuringReplayError(LlmlabError, RuntimeError):
    """Something in a test kernel tried to reach the network."""


def _hook(event: str, args: tuple) -> None:
    if event == "socket.connect":
        sock = args[0]
        if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6):
            raise NetworkDuringReplayError(f"network access during replay: connect to {args[1]!r}")
    elif event in _BLOCKED:
        raise NetworkDuringReplayError(f"network access during replay: {event}{args[:2]!r}")


def install() -> None:
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


KERNEL_NAME = "llmlab-offline"


def kernelspec(python: str = sys.executable) -> dict:
    """A Jupyter kernel that installs the guard before the first cell runs."""
    return {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.exec_lines=['import llmlab.maintainer.netguard as g; g.install()']"],
        "display_name": "Python 3 (llmlab, network blocked)",
        "language": "python",
    }
