"""Network helpers for the tests: a free loopback port, and the outbound-socket guard that the privacy
tests put in front of a `ragmed` command run in a child process."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_GUARD = r'''
import socket
attempts = []
LOOPBACK = ("127.0.0.1", "::1", "localhost") if ALLOW_LOOPBACK else ()
def _blocked(kind, what):
    attempts.append((kind, repr(what)[:200]))
    raise OSError("network blocked by test: " + kind)
_connect = socket.socket.connect
def connect(self, address):
    if self.family == socket.AF_UNIX or (isinstance(address, tuple) and address[0] in LOOPBACK):
        return _connect(self, address)
    return _blocked("connect", address)
socket.socket.connect = connect
socket.socket.connect_ex = lambda self, address: connect(self, address)
_getaddrinfo = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    if LOOPBACK and (host in LOOPBACK or host is None):
        return _getaddrinfo(host, *args, **kwargs)
    return _blocked("getaddrinfo", host)
socket.getaddrinfo = getaddrinfo
'''


def socket_guard(allow_loopback: bool) -> str:
    """Python source to run first in a child process: every outbound connection and name lookup is
    refused (OSError) and recorded in the list `attempts`; Unix sockets stay allowed, and loopback
    addresses too when `allow_loopback`. The caller's code follows it and reports `attempts`."""
    return f"ALLOW_LOOPBACK = {bool(allow_loopback)!r}\n" + _GUARD
