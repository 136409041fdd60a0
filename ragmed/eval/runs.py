"""The library side of `ragmed eval retrieval` and `ragmed datasets build`: which embedder a corpus
collection is embedded with, where eval collections are cached, and the two runs themselves.

The CLI only parses options and renders what these return.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..config import Settings, eval_cache_dir, resolve_embedder


def corpus_embedder(settings: Settings, name: str | None = None, backend: str | None = None):
    """The `Embedder` a new corpus collection is built with: `name` / `backend` when given, else the
    settings' (`config.resolve_embedder` for a new collection)."""
    from ..embed.sentence import Embedder

    return Embedder(*resolve_embedder(settings.with_(embedder_backend=backend), name))


def retrieval_eval(dataset: Path, split: str = "test", modes: Sequence[str] = (), qrels: str | None = None,
                   limit: int | None = None, reranker: str | None = None, embedder: str | None = None,
                   embedder_backend: str | None = None, out: Path | None = None, index_dir: Path | None = None,
                   progress: bool = False, settings: Settings | None = None):
    """Score retrieval modes on a BEIR folder (eval/retrieval.py `evaluate`).

    Returns (dataset, `RetrievalEval`). The corpus collection is built in `index_dir` (default:
    `config.eval_cache_dir()`) and reused while the corpus and embedder are unchanged."""
    from ..retrieve.rerank import CrossEncoderReranker
    from .beir import load_beir
    from .retrieval import build_collection, default_runs, evaluate

    settings = settings or Settings.from_env()
    ds = load_beir(dataset, qrels)
    emb = corpus_embedder(settings, embedder, embedder_backend)
    index = build_collection(ds, index_dir or eval_cache_dir(), emb, progress=progress)
    rr = CrossEncoderReranker(reranker) if reranker else None
    ev = evaluate(ds, index, emb, split=split, runs=default_runs(modes or ("dense", "lexical", "hybrid")),
                  reranker=rr, out_dir=out, limit=limit, progress=progress)
    return ds, ev


@dataclass
class DatasetBuild:
    """A corpus collection made by `build_dataset`: where, from what (file and sha256), embedder."""

    collection: str
    index_dir: str
    passages: int
    source: str
    sha256: str
    embedder: str | None

    def to_dict(self) -> dict:
        return {"collection": self.collection, "index_dir": self.index_dir, "passages": self.passages,
                "source": self.source, "sha256": self.sha256, "embedder": self.embedder}


def build_dataset(name: str, source: Path, index_dir: Path | None = None, embedder: str | None = None,
                  progress: bool = False) -> DatasetBuild:
    """Collection `name` from a BEIR folder or passage JSONL, one passage per chunk (reused if built).

    Raises `ConfigError` for an invalid collection name, `InputError` for a corpus without passages."""
    from .beir import load_corpus
    from .retrieval import build_collection

    settings = Settings.from_env(collection=name, index_dir=index_dir, embedder=embedder)
    ds = load_corpus(source)
    emb = corpus_embedder(settings)
    index = build_collection(ds, settings.index_dir, emb, name=name, progress=progress)
    manifest = index.require_manifest()
    return DatasetBuild(collection=name, index_dir=str(settings.index_dir), passages=len(ds.corpus),
                        source=str(ds.corpus_path.resolve()), sha256=ds.sha256["corpus.jsonl"],
                        embedder=manifest.build.get("embedder"))
