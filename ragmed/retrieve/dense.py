"""Dense retrieval: embed the query, nearest chunks by cosine similarity among committed documents."""

from __future__ import annotations

from ..errors import IndexMismatchError, InputError
from ..store.chroma import Index
from ..types import Passage


class DenseRetriever:
    def __init__(self, index: Index, embedder):
        self.index = index
        self.embedder = embedder

    def search(self, query: str, k: int, where: dict | None = None) -> list[Passage]:
        if not query or not query.strip():
            raise InputError("The query is empty.")
        manifest = self.index.require_manifest()
        built = manifest.build.get("embedder")
        if built != self.embedder.id:
            raise IndexMismatchError(
                f"Collection {self.index.name!r} was built with embedder {built!r}, not "
                f"{self.embedder.id!r}. Search it with --embedder {built}, or rebuild it: "
                f"`ragmed ingest --rebuild --collection {self.index.name} PATH...`."
            )
        vector = self.embedder.embed_query(query)
        return self.index.query(vector, k, manifest.committed_shas(), where=where)
