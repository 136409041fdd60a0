"""Bounded load test of `ragmed serve`: 8 concurrent clients, 200 ask requests, the bundled model.

    python -m benchmarks.server_load [--clients 8] [--requests 200] [--queue-size 4]

A real server process on 127.0.0.1 answers from the demo collection (corpora/sample) with the
bundled SmolLM2. Each client sends questions from notebooks/demo_questions.jsonl (project-written)
to POST /v1/ask. A 503 is the designed answer of a full queue: the client waits its Retry-After (at
most 2 s) and sends the question again; anything else that is not a 200 is an error. Recorded:
status counts, errors, latency per answered request (first attempt to answer, retries included) and
per attempt, throughput, and the server's own queue counters. Results: benchmarks/results/server_load.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from benchmarks import _common  # noqa: F401  (environment first)
from benchmarks._common import RESULTS, ROOT
from tests.support.serverutil import ingest_demo, start_server  # noqa: E402

MAX_WAIT_S = 2.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    i = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[i]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--queue-sizes", default="8,4",
                    help="server queue capacities to run, comma-separated (8 = the default = --clients: "
                         "no 503s expected; 4: half the clients meet a full queue)")
    ap.add_argument("--max-tokens", type=int, default=128)
    args = ap.parse_args()

    questions = [json.loads(line)["question"] for line in
                 (ROOT / "notebooks" / "demo_questions.jsonl").read_text().splitlines() if line.strip()]
    base = Path(tempfile.mkdtemp(prefix="ragmed-load-"))
    ingest_demo(base / "idx")
    runs = [run(args, questions, base, int(q)) for q in args.queue_sizes.split(",")]
    report(args, runs)


def run(args, questions: list[str], base: Path, queue_size: int) -> dict:
    import httpx

    server = start_server(base / "idx", base / f"server-{queue_size}.log", "--queue-size", str(queue_size),
                          env={"RAGMED_MAX_TOKENS": str(args.max_tokens)})
    lock = threading.Lock()
    next_request = iter(range(args.requests))
    statuses: Counter = Counter()
    errors: list[str] = []
    answered: list[float] = []
    attempts: list[float] = []
    abstained = 0
    stages: Counter = Counter()
    try:
        with httpx.Client(base_url=server.url, timeout=300) as warm:  # load the models once
            warm.post("/v1/ask", json={"question": questions[0]}).raise_for_status()

        def client() -> None:
            nonlocal abstained
            with httpx.Client(base_url=server.url, timeout=300) as c:
                while True:
                    with lock:
                        i = next(next_request, None)
                    if i is None:
                        return
                    q = questions[i % len(questions)]
                    t0 = time.perf_counter()
                    while True:
                        a0 = time.perf_counter()
                        try:
                            r = c.post("/v1/ask", json={"question": q})
                        except httpx.HTTPError as exc:
                            with lock:
                                errors.append(f"{type(exc).__name__}: {exc}")
                            break
                        with lock:
                            statuses[r.status_code] += 1
                            attempts.append(time.perf_counter() - a0)
                        if r.status_code == 503 and "retry-after" in r.headers:
                            time.sleep(min(MAX_WAIT_S, float(r.headers["retry-after"])))
                            continue
                        with lock:
                            if r.status_code == 200:
                                answered.append(time.perf_counter() - t0)
                                body = r.json()
                                abstained += bool(body["abstained"])
                                stages[(body["abstention"] or {}).get("stage", "answered")] += 1
                            else:
                                errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
                        break

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        with httpx.Client(base_url=server.url, timeout=30) as c:
            queue = c.get("/v1/health").json()["queue"]
    finally:
        server.stop()

    return {
        "clients": args.clients, "requests": args.requests, "queue_size": queue_size,
        "answered": len(answered), "abstained": abstained, "outcomes": dict(stages),
        "status_counts": dict(sorted(statuses.items())), "errors": errors, "wall_s": round(wall, 1),
        "throughput_answers_per_s": round(len(answered) / wall, 3),
        "latency_s": {"p50": round(pct(answered, 50), 2), "p95": round(pct(answered, 95), 2),
                      "max": round(max(answered), 2) if answered else None,
                      "mean": round(statistics.mean(answered), 2) if answered else None},
        "attempt_latency_s": {"p50": round(pct(attempts, 50), 3), "p95": round(pct(attempts, 95), 3)},
        "server_queue": queue,
    }


def report(args, runs: list[dict]) -> None:
    result = {
        "runs": runs, "max_tokens": args.max_tokens, "model": "smollm2-135m (bundled, Q4_1)",
        "collection": "demo (corpora/sample)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "command": "python -m benchmarks.server_load " + " ".join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "server_load.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = "\n".join(
        f"| {r['queue_size']} | {r['answered']} / {r['requests']} | {len(r['errors'])} | "
        f"{', '.join(f'{k}: {v}' for k, v in r['status_counts'].items())} | {r['latency_s']['p50']} | "
        f"{r['latency_s']['p95']} | {r['latency_s']['max']} | {r['wall_s']} s | {r['throughput_answers_per_s']} |"
        for r in runs)
    outcomes = "; ".join(f"queue {r['queue_size']}: " + ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()))
                         for r in runs)
    md = f"""# Server load: {args.clients} concurrent clients, {args.requests} asks per run (`make bench-server`)

`{result['command']}` on {result['date']}, {os.cpu_count()} CPUs; bundled SmolLM2-135M Q4_1, demo
collection (corpora/sample), answers up to {args.max_tokens} tokens; one `ragmed serve` process per
run, models loaded before timing. Each client sends the next question as soon as it has an answer.
A 503 (full queue) is retried after its Retry-After (at most {MAX_WAIT_S:g} s); latency counts from the
first attempt to the answer, retries included.

| queue capacity | answered | errors | HTTP status counts | p50 s | p95 s | max s | wall time | answers/s |
|---:|---:|---:|---|---:|---:|---:|---:|---:|
{rows}

Outcomes of the answered requests ({outcomes}). gate: abstained before generation;
verification: generated, then withheld because no statement was supported by its citation (the
135M model rarely cites); model: it said the passages do not answer; answered: shown with checked
citations. Every non-gate request ran the model.

With capacity 8 (the default, equal to the number of clients) no request is refused: each waits
behind the others. With capacity 4, half the clients meet a full queue and get 503 at once; the
queue is not fair to them: a client that waits out Retry-After can be overtaken, again and again,
by clients that resubmit the moment they get an answer, which the max latency shows.
"""
    (RESULTS / "server_load.md").write_text(md)
    print(md)
    errors = [e for r in runs for e in r["errors"]]
    if errors:
        sys.exit(f"{len(errors)} errors other than designed 503s: {errors[:3]}")


if __name__ == "__main__":
    main()
