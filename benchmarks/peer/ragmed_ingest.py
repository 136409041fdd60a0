"""ragmed's side of benchmarks/ingest_peer.py (main venv).

    python ragmed_ingest.py ingest INDEX_DIR PDF...   `RagMed.ingest` with its defaults, timed
    python ragmed_ingest.py floor PDF...              only the embedding of ragmed's own chunks

The embedder is loaded before the clock starts in both (as on the LangChain side). Prints one JSON line.
"""

import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"


def rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # the PDF worker process
    return max(own, kids) / 1024


def ingest(index_dir: str, pdfs: list[str]) -> dict:
    from ragmed import RagMed

    rag = RagMed(collection="peer-bench", index_dir=index_dir)
    rag.embedder.embed(["warm up"])
    t0 = time.perf_counter()
    report = rag.ingest(pdfs)
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = rag.ingest(pdfs)
    reingest = time.perf_counter() - t0
    metas = rag.index.chroma().get(include=["metadatas"])["metadatas"]
    limit = rag.embedder.max_seq_length
    return {"seconds": seconds, "pages": sum(d.pages for d in report.documents), "chunks": len(metas),
            "tokens_embedded": sum(int(m["n_tokens"]) for m in metas),
            "truncated": sum(int(m["n_tokens"]) > limit for m in metas), "failed": len(report.failed),
            "reingest_seconds": reingest, "reingest_embedded": again.embedded, "peak_rss_mb": rss_mb()}


def floor(pdfs: list[str]) -> dict:
    from ragmed.embed.sentence import Embedder
    from ragmed.ingest.chunker import chunk_document
    from ragmed.ingest.extract import extract
    from ragmed.ingest.pipeline import doc_id_for

    from ragmed.config import DEFAULT_EMBEDDER, DEFAULT_EMBEDDER_BACKEND

    emb = Embedder(DEFAULT_EMBEDDER, DEFAULT_EMBEDDER_BACKEND)  # what `ragmed ingest` uses by default
    emb.embed(["warm up"])
    texts, lengths = [], []
    for p in pdfs:
        doc = extract(Path(p))
        chunks, _ = chunk_document(doc, emb, 200, doc_id_for(p))
        texts += [c.embed_text for c in chunks]
        lengths += [c.n_tokens for c in chunks]
    t0 = time.perf_counter()
    emb.embed(texts, lengths=lengths)  # the backend's batch size, as ingestion uses
    return {"seconds": time.perf_counter() - t0, "chunks": len(texts), "peak_rss_mb": rss_mb()}


if __name__ == "__main__":
    mode = sys.argv[1]
    out = ingest(sys.argv[2], sys.argv[3:]) if mode == "ingest" else floor(sys.argv[2:])
    print(json.dumps(out))
