"""`Guard`: the checks every request passes before any route runs (a plain ASGI middleware, so it
also guards streamed responses).

1. Host header: a server without a token answers only to loopback host names (blocks DNS
   rebinding, where a web page re-points its own name at 127.0.0.1).
2. Origin: a state-changing request from another origin (a web page the browser happens to have
   open) is refused.
3. Token: `Authorization: Bearer <token>` or the page's session cookie, compared in constant time;
   the staff token is refused (403) on what only the admin token may do (`security.needs_admin`).
4. Upload size: uploads must declare their length, and it must be within the limit, before a byte
   of them is read.
5. Response headers: nosniff, no referrer, and a strict content security policy for the page.
"""

from __future__ import annotations

import json
import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from .errors import error_payload
from .security import ADMIN, COOKIE, is_loopback, needs_admin

UPLOAD_PATH = re.compile(r"^/v1/collections/[^/]+/documents/?$")
MULTIPART_OVERHEAD = 64 * 1024
CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class Guard:
    def __init__(self, app, service):
        self.app = app
        self.service = service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path, method = scope.get("path", ""), scope.get("method", "GET")
        denied = self._check(headers, path, method)
        if denied is not None:
            status, message, extra = denied
            return await _reply(send, status, message, extra)

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                hs = list(message.get("headers", []))
                hs += [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                       (b"x-frame-options", b"DENY")]
                ctype = dict(message.get("headers", [])).get(b"content-type", b"")
                if ctype.startswith(b"text/html"):
                    hs.append((b"content-security-policy", CSP.encode()))
                message = {**message, "headers": hs}
            await send(message)

        return await self.app(scope, receive, send_with_headers)

    def _check(self, headers: dict[str, str], path: str, method: str):
        auth = self.service.auth
        host = headers.get("host", "")
        hostname = urlsplit("//" + host).hostname or ""
        if not auth.enabled and not is_loopback(hostname):
            return 403, f"Host {host!r} refused: this server answers only on this machine.", {}
        origin = headers.get("origin")
        if method in UNSAFE_METHODS and origin and origin != "null":
            if urlsplit(origin).netloc.lower() != host.lower():
                return 403, "Cross-origin request refused.", {}
        if not auth.is_public(path):
            cookie = SimpleCookie()
            try:
                cookie.load(headers.get("cookie", ""))
            except Exception:  # a malformed cookie header is just no cookie
                pass
            session = cookie[COOKIE].value if COOKIE in cookie else None
            role = auth.role(headers.get("authorization"), session)
            if role is None:
                return 401, "Missing or wrong token: send 'Authorization: Bearer <token>'.", {
                    "www-authenticate": "Bearer"}
            if role != ADMIN and needs_admin(method, path):
                return 403, ("Only the admin token may upload, remove or restore documents; the staff "
                             "token may ask, search and read them. Ask your ragmed administrator."), {}
        if method == "POST" and UPLOAD_PATH.match(path):
            length = headers.get("content-length")
            if length is None or not length.isdigit():
                return 411, "Uploads must declare their Content-Length.", {}
            limit = self.service.config.max_upload_bytes
            if int(length) > limit + MULTIPART_OVERHEAD:
                return 413, (f"The upload is {int(length) / 1e6:.1f} MB; the limit is {limit / 1e6:.1f} MB "
                             "(ragmed serve --max-upload-mb)."), {}
        return None


async def _reply(send, status: int, message: str, extra: dict[str, str]) -> None:
    body = json.dumps(error_payload(message, "Refused", status)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
