"""What keeps the server on the clinic's own machine: bind policy, bearer token, safe upload names.

- `check_bind`: loopback addresses need nothing; any other address needs a token (else refused).
- `TokenCheck`: every request carries `Authorization: Bearer <token>` (or the session cookie the web
  page gets from `POST /v1/session`); the comparison is constant-time (`hmac.compare_digest`).
- `safe_upload_name`: an uploaded file's name may not leave the collection's upload folder.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import unicodedata
from pathlib import Path

from ..errors import ConfigError, InputError

COOKIE = "ragmed_session"
# Paths served without a token: the page shell and its static files hold no clinic data; the page
# then asks for the token and exchanges it for a session cookie.
PUBLIC_PATHS = ("/", "/favicon.ico", "/v1/session")
PUBLIC_PREFIXES = ("/static/",)
MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    if is_loopback(host):
        return
    if not token:
        raise ConfigError(
            f"Refusing to listen on {host}: other machines could read your documents. Set a token "
            "(RAGMED_SERVER_TOKEN or --token-file FILE, at least 16 characters; make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`) or keep the default "
            "--host 127.0.0.1."
        )


def check_token_strength(token: str) -> str:
    token = token.strip()
    if len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(f"The server token is too short ({len(token)} characters); use at least {MIN_TOKEN_CHARS}.")
    return token


class TokenCheck:
    """Constant-time bearer-token (or session-cookie) check for every request."""

    def __init__(self, token: str | None):
        self.token = token or None
        # the cookie holds a value derived from the token, not the token itself
        self.session = hashlib.sha256(b"ragmed-session:" + token.encode()).hexdigest() if token else None

    @property
    def enabled(self) -> bool:
        return self.token is not None

    @staticmethod
    def is_public(path: str) -> bool:
        return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)

    def token_ok(self, presented: str | None) -> bool:
        if self.token is None:
            return True
        return hmac.compare_digest((presented or "").encode(), self.token.encode())

    def allows(self, authorization: str | None, cookie: str | None) -> bool:
        if self.token is None:
            return True
        scheme, _, value = (authorization or "").partition(" ")
        bearer_ok = hmac.compare_digest(value.strip().encode() if scheme.lower() == "bearer" else b"",
                                        self.token.encode())
        cookie_ok = hmac.compare_digest((cookie or "").encode(), (self.session or "").encode())
        return bearer_ok or cookie_ok


_UNSAFE = re.compile(r"[^\w.\- ()+]")
MAX_NAME_CHARS = 150


def safe_upload_name(name: str | None) -> str:
    """The file name an upload is stored under, or InputError: names that try to leave the folder
    (separators, '..', drive letters, NUL) are rejected, not rewritten; other odd characters
    become '_'. Only the formats `ragmed ingest` reads are accepted (ingest/formats.py)."""
    raw = (name or "").strip()
    if not raw:
        raise InputError("The upload has no file name.")
    if any(c in raw for c in "/\\\x00") or "%00" in raw or ".." in raw or re.match(r"^[A-Za-z]:", raw):
        raise InputError(f"Rejected the file name {raw!r}: it contains a path. Upload a plain file name like protocol.pdf.")
    if raw.startswith("."):
        raise InputError(f"Rejected the file name {raw!r}: hidden files (starting with '.') are not indexed.")
    clean = unicodedata.normalize("NFC", raw)
    clean = "".join(c for c in clean if unicodedata.category(c)[0] != "C")  # control/format chars
    clean = _UNSAFE.sub("_", clean).strip(" .")
    if not clean or clean.startswith("."):
        raise InputError(f"Rejected the file name {raw!r}.")
    from ..ingest.formats import SUPPORTED_LIST, supported

    if not supported(Path(clean)):  # every format `ragmed ingest` reads (ingest/formats.py)
        raise InputError(f"Rejected {raw!r}: {Path(clean).suffix or 'this file type'} cannot be uploaded; "
                         f"upload {SUPPORTED_LIST}.")
    if len(clean) > MAX_NAME_CHARS:
        suffix = Path(clean).suffix
        clean = clean[: MAX_NAME_CHARS - len(suffix)].rstrip(" .") + suffix
    return clean


def inside(folder: Path, name: str) -> Path:
    """`folder/name`, checked to resolve inside `folder` (defence in depth after safe_upload_name)."""
    base = folder.resolve()
    target = (base / name).resolve()
    if target.parent != base:
        raise InputError(f"Rejected the file name {name!r}: it would be stored outside the collection.")
    return target
