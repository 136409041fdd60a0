"""Corpus-scale collection builds on a Ray cluster, written to a Chroma server (`ragmed datasets build
NAME --from CORPUS --ray ADDRESS --chroma-url URL`, or `build_distributed`).

Shape of a run: the driver (this process) scans the corpus into shards (ingest/corpus.py) and
holds the collection's writer lock and lease; a pool of `embed_actors` Ray actors (`ShardWorker`,
`cpus_per_actor` CPUs each) each parse a shard, embed it (`batch_size` texts per forward pass or
request), upsert it into the Chroma server in batches of `write_batch`, and return the shard's
BM25 terms; the driver writes the terms beside the collection and commits the shard in the
manifest. Two shards are in flight per actor, so an actor never waits for the driver.

Commit rules (those of ingest/pipeline.py, per shard instead of per file): before a shard is sent,
the manifest records it as *pending*; after its vectors and terms are written, one manifest save
commits it. A run killed at any moment leaves only pending shards, whose chunks the next run
deletes (`Ingestor.recover`) before doing them again; committed shards (same bytes, same sha256)
are skipped. Chunk ids are the passage ids, so a write repeated by a resumed run replaces, never
duplicates. Failpoints: scale.announced, scale.committed (failpoints.py).

Requires the `ray` extra (`pip install 'ragmed[ray]'`) on the driver and every node, and a Chroma
server reachable from every node (the actors write to it directly). Throughput figures and the
PubMed plan: docs/scale.md, benchmarks/results/scale_ingest.md.
"""

from __future__ import annotations

import collections
import logging
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError, DependencyMissingError, RagmedError
from ..failpoints import failpoint
from ..store.collection import Collection
from ..store.manifest import Manifest, now
from ..version import __version__
from .corpus import SHARD_PASSAGES, Shard, corpus_files, scan_shards, shard_chunks
from .pipeline import Ingestor

log = logging.getLogger(__name__)

WRITE_BATCH = 1024  # records per Chroma upsert request (docs/scale.md: batch sizes)


@dataclass
class ShardDone:
    """One committed shard, as reported to `on_shard` (and printed per shard by the CLI)."""

    number: int  # 1-based count of shards committed in this run
    total: int  # shards to do in this run
    key: str
    passages: int
    skipped_rows: int
    embed_s: float
    write_s: float
    node: str
    done_passages: int  # committed in this run so far
    todo_passages: int  # to do in this run
    elapsed_s: float

    @property
    def passages_per_s(self) -> float:
        return self.done_passages / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def line(self) -> str:
        eta = (self.todo_passages - self.done_passages) / self.passages_per_s if self.passages_per_s else 0.0
        own = self.passages / max(self.embed_s + self.write_s, 1e-9)
        return (f"shard {self.number}/{self.total} {Path(self.key.split('#')[0]).name}#{self.key.split('-')[-1]}: "
                f"{self.passages} passages on {self.node}, embed {self.embed_s:.1f} s, write {self.write_s:.1f} s "
                f"({own:.0f} passages/s) | overall {self.done_passages}/{self.todo_passages} "
                f"({self.passages_per_s:.0f} passages/s, about {eta:.0f} s left)")


@dataclass
class DistributedBuild:
    """What a build did. `passages` counts the collection's committed chunks (all runs)."""

    collection: str
    chroma_url: str
    source: str
    embedder: str
    embedder_backend: str
    actors: int
    shards: int  # in the corpus
    shards_done: int  # committed by this run
    shards_unchanged: int  # committed by an earlier run, skipped
    shards_removed: int  # of this corpus's files but no longer in them (corpus changed)
    passages: int
    passages_done: int  # embedded and committed by this run
    skipped_rows: int  # rows without text in this run's shards
    chroma_records: int  # the Chroma collection's record count afterwards
    seconds: float
    ingest_seconds: float  # from the first shard sent to the last committed
    lexical_seconds: float  # the BM25 build at the end
    warnings: list[str] = field(default_factory=list)

    @property
    def passages_per_s(self) -> float:
        return self.passages_done / self.ingest_seconds if self.ingest_seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passages_per_s": round(self.passages_per_s, 2)}


class ShardWorker:
    """One embedding actor: shard bytes -> chunks -> vectors -> Chroma server; returns the terms.

    `embedder`: {"kind": "local", "name", "backend"} or {"kind": "remote", "url", "model"}."""

    def __init__(self, embedder: dict, chroma_url: str, collection: str, batch_size: int | None,
                 write_batch: int, threads: int):
        from ..store.chroma import VectorIndex

        self.emb = make_embedder(embedder, threads)
        self.batch_size, self.write_batch = batch_size, write_batch
        self.vectors = VectorIndex(Path("."), collection, chroma_url)
        self.node = socket.gethostname()

    def process(self, shard: Shard, data: bytes) -> dict:
        from ..tokenize import tokenize

        chunks, skipped = shard_chunks(shard, data)
        t0 = time.perf_counter()
        vecs = self.emb.embed([c.embed_text for c in chunks], batch_size=self.batch_size)
        t1 = time.perf_counter()
        for i in range(0, len(chunks), self.write_batch):
            self.vectors.upsert(chunks[i : i + self.write_batch], vecs[i : i + self.write_batch])
        t2 = time.perf_counter()
        rows = [{"id": c.id, "section": "", "index": c.index, "terms": tokenize(c.embed_text)} for c in chunks]
        return {"rows": rows, "passages": len(chunks), "skipped": skipped, "embed_s": t1 - t0,
                "write_s": t2 - t1, "node": self.node}


def make_embedder(spec: dict, threads: int = 0):
    """The embedder a spec names (see `ShardWorker`); ONNX sessions get `threads` threads (0: all
    CPUs), so that actors sharing a machine do not oversubscribe it."""
    if spec["kind"] == "remote":
        from ..embed.remote import RemoteEmbedder

        return RemoteEmbedder(spec["url"], spec["model"])
    from ..embed.sentence import Embedder

    emb = Embedder(spec["name"], spec["backend"])
    if threads and emb.backend != "torch":
        from ..embed.onnx import OnnxModel

        emb._model = OnnxModel(emb.path, emb.backend, threads=threads)  # this actor's own session
    elif threads:
        import torch

        torch.set_num_threads(threads)
    return emb


def build_record(spec: dict, shard_passages: int) -> tuple[dict, str]:
    """The manifest's build settings for vectors of `spec`'s embedder, and its id."""
    emb = make_embedder(spec, threads=1)
    if spec["kind"] == "remote":
        record = emb.build_record()
    else:
        from ..embed.onnx import FAMILY

        record = {"embedder": emb.id, "embedder_backend": emb.backend, "embedder_family": FAMILY[emb.backend],
                  "dimension": emb.dimension}
    return {"ragmed_version": __version__, **record, "distance": "cosine",
            "chunker": {"version": "corpus-passages", "shard_passages": shard_passages}}, emb.id


def _ray():
    try:
        import ray
    except ImportError as exc:
        raise DependencyMissingError("Distributed builds need Ray: `pip install 'ragmed[ray]'` (on the driver "
                                     "and every node of the cluster).") from exc
    return ray


def build_distributed(
    name: str, source: str | Path, chroma_url: str, index_dir: str | Path, ray_address: str = "local",
    embed_actors: int = 1, embedder: dict | None = None, batch_size: int | None = None,
    shard_passages: int = SHARD_PASSAGES, write_batch: int = WRITE_BATCH, cpus_per_actor: float = 1,
    on_shard: Callable[[ShardDone], None] | None = None,
) -> DistributedBuild:
    """Build (or resume, or update) collection `name` on the Chroma server `chroma_url` from a corpus.

    `ray_address`: a cluster's address ("10.0.0.5:6379", "auto") or "local" (a Ray instance in this
    process); `embedder`: a spec (see `ShardWorker`; default the bundled MiniLM on ONNX);
    `index_dir`: this workstation's cache folder (BM25 files). Raises ConfigError without a Chroma
    server, IndexMismatchError when the collection was built with another embedder or shard size,
    RagmedError when an actor fails (rerun the same command: it resumes)."""
    if not chroma_url:
        raise ConfigError("Distributed builds write to a Chroma server: start one with `chroma run --host HOST "
                          "--port 8000 --path DIR` and pass --chroma-url http://HOST:8000.")
    if embed_actors < 1:
        raise ConfigError("--embed-actors must be at least 1.")
    t_start = time.perf_counter()
    spec = embedder or {"kind": "local", "name": "all-MiniLM-L6-v2", "backend": "onnx"}
    build, emb_id = build_record(spec, shard_passages)
    index = Collection(Path(index_dir), name, chroma_url)
    ing = Ingestor(index, None, 0)  # its recover / remove / finish steps need only the collection
    files = {str(p) for p in corpus_files(source)}
    shards = list(scan_shards(source, shard_passages))
    warnings: list[str] = []
    with index.write_lock():
        manifest = index.manifest()
        if manifest is None:
            manifest = index.create(build)
        else:
            manifest.check_build(build)
        ing.recover(manifest)
        keys = {s.key for s in shards}
        stale = [k for k in manifest.documents if k.startswith("corpus:") and k.split("#")[0][7:] in files
                 and k not in keys]
        for k in stale:
            ing.remove(manifest, k)
        todo = [s for s in shards if manifest.documents.get(s.key, {}).get("sha256") != s.sha256]
        ray = _ray()
        started_ray = not ray.is_initialized()
        if started_ray:
            ray.init(address=None if ray_address == "local" else ray_address, log_to_driver=False,
                     configure_logging=False, include_dashboard=False if ray_address == "local" else None)
        try:
            t_ingest = time.perf_counter()
            done, skipped = _run(ray, index, manifest, todo, spec, chroma_url, name, batch_size, write_batch,
                                 embed_actors, cpus_per_actor, on_shard)
            ingest_s = time.perf_counter() - t_ingest
        finally:
            if started_ray:
                ray.shutdown()
        t_lex = time.perf_counter()
        ing.finish(manifest)
        lexical_s = time.perf_counter() - t_lex
    committed = sum(int(d.get("chunks", 0)) for d in manifest.documents.values())
    records = index.count()
    if records != committed:
        warnings.append(f"the Chroma collection holds {records} records but the manifest commits {committed} chunks: "
                        + ("passage ids repeat across shards (each id is kept once)" if records < committed else
                           "records of shards a killed run was writing remain; they are never returned"))
    return DistributedBuild(
        collection=name, chroma_url=chroma_url, source=str(Path(source).expanduser().resolve()), embedder=emb_id,
        embedder_backend=build["embedder_backend"], actors=embed_actors, shards=len(shards),
        shards_done=len(todo), shards_unchanged=len(shards) - len(todo), shards_removed=len(stale),
        passages=committed, passages_done=done, skipped_rows=skipped, chroma_records=records,
        seconds=time.perf_counter() - t_start, ingest_seconds=ingest_s if todo else 0.0,
        lexical_seconds=lexical_s, warnings=warnings)


def _run(ray, index: Collection, manifest: Manifest, todo: list[Shard], spec: dict, chroma_url: str, name: str,
         batch_size: int | None, write_batch: int, n_actors: int, cpus: float,
         on_shard: Callable[[ShardDone], None] | None) -> tuple[int, int]:
    """Send the shards to the actor pool and commit each as it comes back; (passages, skipped rows)."""
    if not todo:
        return 0, 0
    threads = max(1, int(cpus))
    actor_cls = ray.remote(num_cpus=cpus)(ShardWorker)
    actors = [actor_cls.remote(spec, chroma_url, name, batch_size, write_batch, threads) for _ in range(n_actors)]
    free = collections.deque(actors * 2)  # two shards in flight per actor
    queue = collections.deque(todo)
    inflight: dict[Any, tuple[Shard, Any]] = {}
    total_p = sum(s.n_lines for s in todo)
    done_p = skipped = n_done = 0
    t0 = time.perf_counter()
    while queue or inflight:
        while queue and free:
            shard, actor = queue.popleft(), free.popleft()
            manifest.pending[shard.doc_id] = {"op": "write", "sha256": shard.sha256, "source": shard.key}
            manifest.save()
            failpoint("scale.announced")
            inflight[actor.process.remote(shard, shard.read())] = (shard, actor)
        ready, _ = ray.wait(list(inflight), num_returns=1)
        for ref in ready:
            shard, actor = inflight.pop(ref)
            free.append(actor)
            try:
                res = ray.get(ref)
            except Exception as exc:
                raise RagmedError(f"An embedding actor failed on {shard.key} ({type(exc).__name__}: "
                                  f"{str(exc)[:500]}). Committed shards are kept: fix the cause and run the same "
                                  "command again to resume.") from exc
            _commit(index, manifest, shard, res)
            n_done += 1
            done_p += res["passages"]
            skipped += res["skipped"]
            if on_shard:
                on_shard(ShardDone(n_done, len(todo), shard.key, res["passages"], res["skipped"], res["embed_s"],
                                   res["write_s"], res["node"], done_p, total_p, time.perf_counter() - t0))
    return done_p, skipped


def _commit(index: Collection, manifest: Manifest, shard: Shard, res: dict) -> None:
    """Terms beside the collection, then the one manifest save that commits the shard."""
    index.lexical.write_terms(shard.doc_id, shard.sha256, res["rows"])
    old = manifest.documents.get(shard.key)
    manifest.documents[shard.key] = {
        "doc_id": shard.doc_id, "sha256": shard.sha256, "title": f"{Path(shard.file).name} shard {shard.number}",
        "kind": "corpus-shard", "pages": 1, "chunks": res["passages"], "ingested_at": now(),
        "skipped_rows": res["skipped"]}
    if old:
        manifest.pending[shard.doc_id] = {"op": "cleanup", "keep": shard.sha256, "source": shard.key}
    else:
        manifest.pending.pop(shard.doc_id, None)
    manifest.save()
    failpoint("scale.committed")
    if old:
        index.delete_versions(shard.doc_id, keep_sha=shard.sha256)


def print_progress(done: ShardDone) -> None:
    """The CLI's per-shard progress line (stderr)."""
    print(done.line(), file=sys.stderr, flush=True)
