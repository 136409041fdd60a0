"""What keeps the server on the clinic's own machine: bind policy, bearer token, safe upload names.

- `check_bind`: loopback addresses need nothing; any other address needs a token (else refused).
- `TokenCheck`: every request carries `Authorization: Bearer <token>` (or the session cookie the web
  page gets from `POST /v1/session`); the comparison is constant-time (`hmac.compare_digest`). Two
  roles: admin (everything) and staff (ask, search, read; `needs_admin` lists what staff may not do).
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
PUBLIC_PREFIXES = ("/static/", "/vendor/")
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


ADMIN, STAFF = "admin", "staff"
# What only the admin token may do (issue 22, roles): change the collection. Staff ask, search and
# read documents. Matched on (method, path); the trash routes are admin-only whatever the method.
ADMIN_ONLY = (
    ("POST", re.compile(r"^/v1/collections/[^/]+/documents/?$")),
    ("DELETE", re.compile(r"^/v1/collections/[^/]+/documents/[^/]+$")),
    ("*", re.compile(r"^/v1/collections/[^/]+/trash(/.*)?$")),
)


def needs_admin(method: str, path: str) -> bool:
    return any((m == "*" or m == method) and rx.match(path) for m, rx in ADMIN_ONLY)


def _session(token: str | None, role: str) -> str | None:
    # the cookie holds a value derived from the token, not the token itself
    salt = b"ragmed-session:" if role == ADMIN else b"ragmed-session-staff:"
    return hashlib.sha256(salt + token.encode()).hexdigest() if token else None


class TokenCheck:
    """Constant-time bearer-token (or session-cookie) check for every request, with two roles:
    the admin token (`--token-file`, RAGMED_SERVER_TOKEN) may do everything; the staff token
    (`--staff-token-file`, RAGMED_STAFF_TOKEN) may ask, search and read documents. Without any
    token (loopback only) every request is admin: one person on their own machine."""

    def __init__(self, token: str | None, staff_token: str | None = None):
        self.token = token or None
        self.staff_token = staff_token or None
        if self.staff_token and self.token and hmac.compare_digest(self.staff_token, self.token):
            raise ConfigError("The staff token and the admin token are the same: give staff a token of their own.")
        self.session = _session(self.token, ADMIN)
        self.staff_session = _session(self.staff_token, STAFF)

    @property
    def enabled(self) -> bool:
        return self.token is not None or self.staff_token is not None

    @staticmethod
    def is_public(path: str) -> bool:
        return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)

    @staticmethod
    def _same(a: str | None, b: str | None) -> bool:
        return b is not None and hmac.compare_digest((a or "").encode(), b.encode())

    def role_of_token(self, presented: str | None) -> str | None:
        """ADMIN, STAFF or None (wrong token) for a token typed into the page."""
        if not self.enabled:
            return ADMIN
        if self._same(presented, self.token):
            return ADMIN
        return STAFF if self._same(presented, self.staff_token) else None

    def session_for(self, role: str) -> str:
        return (self.session if role == ADMIN else self.staff_session) or ""

    def role(self, authorization: str | None, cookie: str | None) -> str | None:
        """The role a request's bearer token or session cookie grants, or None."""
        if not self.enabled:
            return ADMIN
        scheme, _, value = (authorization or "").partition(" ")
        bearer = value.strip() if scheme.lower() == "bearer" else None
        if self._same(bearer, self.token) or self._same(cookie, self.session):
            return ADMIN
        if self._same(bearer, self.staff_token) or self._same(cookie, self.staff_session):
            return STAFF
        return None

    def allows(self, authorization: str | None, cookie: str | None) -> bool:
        return self.role(authorization, cookie) is not None


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
