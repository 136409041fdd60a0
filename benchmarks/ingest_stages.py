"""Where `ragmed ingest` spends its time: one ingestion of the 8 guideline PDFs, timed by stage.

    python -m benchmarks.ingest_stages        (make bench-stages, about 4 minutes)

`RagMed.ingest` with its defaults into a fresh index, the embedder loaded before the clock starts,
with timers wrapped around each stage of ingest/pipeline.py: waiting for the parser worker (the PDF
is parsed in its own process, one document ahead), chunking, embedding, the Chroma upsert, the BM25
write, manifest saves and the final commit. Then the embedding of the same chunks alone (the floor
of benchmarks/ingest_peer.py), so the gap between the two is split into its causes: embedding slowed
by the parser sharing the CPU, and the stages outside embedding.
Writes benchmarks/results/ingest_stages.{json,md}.
"""

from __future__ import annotations

import collections
import json
import os
import platform
import sys
import tempfile
import time

from benchmarks._common import GUIDELINES, RESULTS, cpu_name, require

import ragmed.ingest.isolate as isolate
import ragmed.ingest.pipeline as pipeline
from ragmed import RagMed
from ragmed.embed.sentence import Embedder
from ragmed.store.chroma import VectorIndex
from ragmed.store.lexical import LexicalIndex

SPENT: collections.Counter = collections.Counter()


def timed(owner, name: str, stage: str) -> None:
    inner = getattr(owner, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            SPENT[stage] += time.perf_counter() - t0

    setattr(owner, name, wrapper)


EMBEDDED: list[tuple[list[str], list[int]]] = []


def record_texts() -> None:
    inner = Embedder.embed

    def wrapper(self, texts, *args, lengths=None, **kwargs):
        EMBEDDED.append((list(texts), list(lengths or [])))
        return inner(self, texts, *args, lengths=lengths, **kwargs)

    Embedder.embed = wrapper


def main() -> None:
    require(GUIDELINES)
    pdfs = sorted(GUIDELINES.glob("*.pdf"))
    for owner, name, stage in [(isolate.IsolatedExtractor, "_receive", "waiting for the parser"),
                               (pipeline, "chunk_document", "chunking"), (Embedder, "embed", "embedding"),
                               (VectorIndex, "upsert", "Chroma upsert"), (LexicalIndex, "write_version", "BM25 write"),
                               (pipeline.Manifest, "save", "manifest saves"), (pipeline.Ingestor, "finish", "final commit")]:
        timed(owner, name, stage)
    record_texts()  # outside the embedding timer: its cost is not counted as embedding
    with tempfile.TemporaryDirectory() as tmp:
        rag = RagMed(collection="stages", index_dir=tmp)
        rag.embedder.embed(["warm up"])
        SPENT.clear()
        EMBEDDED.clear()
        t0 = time.perf_counter()
        report = rag.ingest([str(p) for p in pdfs])
        total = time.perf_counter() - t0
        stages = dict(SPENT)
    # the floor: the very texts ingestion embedded, embedded alone in one call
    texts = [t for batch, _ in EMBEDDED for t in batch]
    lengths = [n for _, batch in EMBEDDED for n in batch]
    t0 = time.perf_counter()
    rag.embedder.embed(texts, lengths=lengths)
    floor = time.perf_counter() - t0
    other = total - sum(stages.values())
    data = {"total_s": round(total, 1), "floor_s": round(floor, 1), "ratio_to_floor": round(total / floor, 3),
            "stages_s": {k: round(v, 1) for k, v in stages.items()}, "unattributed_s": round(other, 1),
            "chunks": len(texts), "pages": sum(d.pages for d in report.documents),
            "embedder_backend": rag.embedder.backend,
            "machine": {"cpus": os.cpu_count(), "cpu": cpu_name(), "platform": platform.platform()},
            "command": "python -m benchmarks.ingest_stages", "date": time.strftime("%Y-%m-%d")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest_stages.json").write_text(json.dumps(data, indent=1) + "\n")
    rows = "\n".join(f"| {k} | {v:.1f} s |" for k, v in sorted(data["stages_s"].items(), key=lambda kv: -kv[1]))
    md = (f"# Where ingestion spends its time\n\nOne `RagMed.ingest` of the 8 guideline PDFs ({data['pages']} pages, "
          f"{data['chunks']:,} chunks), embedder backend `{data['embedder_backend']}`, {data['machine']['cpu']}, "
          f"{data['machine']['cpus']} vCPUs, {data['date']}.\n\n| stage | time |\n|---|---:|\n{rows}\n"
          f"| other (loop, hashing, reports) | {other:.1f} s |\n| **total** | **{total:.1f} s** |\n\n"
          f"The same chunks embedded alone (the floor): {floor:.1f} s; ingestion = {total / floor:.2f}x the floor. "
          f"Embedding inside ingestion took {stages.get('embedding', 0) - floor:.1f} s longer than alone "
          f"(negative: shorter), while the parser process shared the CPU with it.\n\nRerun: `{data['command']}`\n")
    (RESULTS / "ingest_stages.md").write_text(md)
    print(md)


if __name__ == "__main__":
    sys.exit(main())
