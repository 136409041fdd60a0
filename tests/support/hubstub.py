"""A stand-in for the Hugging Face hub on 127.0.0.1, serving files in the hub's URL layout.

    GET/HEAD /{repo}/resolve/{revision}/{file}   file bytes (Range supported), X-Repo-Commit,
                                                 ETag / X-Linked-Etag = sha256 (as for LFS files)
    GET /api/models/{repo}/tree/{revision}       the repository's file list (list_repo_files)

Failure injection for tests: `corrupt` serves bytes that do not match the advertised sha256;
`cut_gets` makes the next N downloads stop half way (the connection closes early).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Hub:
    def __init__(self):
        self.files: dict[tuple[str, str], bytes] = {}  # (repo, path) -> bytes
        self.corrupt = False
        self.cut_gets = 0
        self.ranges: list[int] = []  # start offset of every download request (0 = from the start)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, repo: str, path: str, data: bytes) -> str:
        self.files[(repo, path)] = data
        return hashlib.sha256(data).hexdigest()

    def __enter__(self) -> "Hub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: bytes = b"", headers: dict | None = None, head: bool = False):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if "Content-Length" not in (headers or {}):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _file(self, head: bool):
                m = re.match(r"^/(.+?/.+?)/resolve/([^/]+)/(.+)$", self.path.split("?")[0])
                if not m or (m.group(1), m.group(3)) not in hub.files:
                    return self._send(404, b'{"error": "Entry not found"}',
                                      {"X-Error-Code": "EntryNotFound", "Content-Type": "application/json"}, head)
                data = hub.files[(m.group(1), m.group(3))]
                sha = hashlib.sha256(data).hexdigest()
                if hub.corrupt:
                    data = data[:-16] + bytes(16)
                headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{sha}"', "X-Linked-Etag": f'"{sha}"',
                           "X-Linked-Size": str(len(data)), "Accept-Ranges": "bytes",
                           "Content-Type": "application/octet-stream"}
                start = 0
                rng = self.headers.get("Range")
                if rng:
                    start = int(re.match(r"bytes=(\d+)-", rng).group(1))
                if head:
                    headers["Content-Length"] = str(len(data))
                    return self._send(200, b"", headers, head=True)
                hub.ranges.append(start)
                body = data[start:]
                code = 206 if rng else 200
                headers["Content-Length"] = str(len(body))
                if rng:
                    headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                if hub.cut_gets > 0:
                    hub.cut_gets -= 1
                    self.send_response(code)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body[: max(1, len(body) // 2)])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self._send(code, body, headers)

            def do_HEAD(self):
                self._file(head=True)

            def do_GET(self):
                m = re.match(r"^/api/models/(.+?/.+?)/tree/([^/?]+)", self.path)
                if m:
                    repo = m.group(1)
                    listing = [{"type": "file", "path": p, "size": len(d), "oid": hashlib.sha1(d).hexdigest()}
                               for (r, p), d in hub.files.items() if r == repo]
                    return self._send(200, json.dumps(listing).encode(), {"Content-Type": "application/json"})
                self._file(head=False)

        return Handler
