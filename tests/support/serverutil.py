"""Start real `ragmed serve` processes on loopback for the server and browser tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .net import free_port

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = ROOT / "corpora" / "sample"


def cli(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ragmed.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def ingest_demo(index_dir: Path, collection: str = "demo") -> dict:
    """Index the bundled sample in a separate process (the test process never opens this Chroma)."""
    done = cli("ingest", str(SAMPLE_DIR), "-c", collection, "--index-dir", str(index_dir), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    index_dir: Path
    log: Path
    token: str | None = None

    def client(self, token: str | None = "default", **kw) -> httpx.Client:
        token = self.token if token == "default" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=300, **kw)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(index_dir: Path, log: Path, *args: str, token: str | None = None,
                 collection: str = "demo", env: dict | None = None) -> Server:
    port = free_port()
    env = {**os.environ, "RAGMED_MAX_TOKENS": "96", **(env or {})}
    if token:
        env["RAGMED_SERVER_TOKEN"] = token
    out = log.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ragmed.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "-c", collection, "--index-dir", str(index_dir), *args],
        stdout=out, stderr=subprocess.STDOUT, env=env)
    server = Server(f"http://127.0.0.1:{port}", proc, index_dir, log, token)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"ragmed serve exited ({proc.returncode}): {log.read_text()}")
        try:
            # the health route answers 200 without a token only when auth is off; 401 also proves it is up
            if httpx.get(server.url + "/v1/health", timeout=2).status_code in (200, 401):
                return server
        except httpx.HTTPError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"ragmed serve did not start: {log.read_text()}")


def sse_events(text: str) -> list[tuple[str, dict]]:
    """Parse a server-sent-events body into (event, data) pairs."""
    out = []
    for block in text.split("\n\n"):
        event, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        if data:
            out.append((event, data if data == "[DONE]" else json.loads(data)))
    return out
