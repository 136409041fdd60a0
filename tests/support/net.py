"""Network helpers for the tests: a free loopback port, and the outbound-socket guard that the privacy
tests put in front of a `ragmed` command run in a child process."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
