"""Document identity: a document is its content (sha256) first, its path second.

Rules (issue 20, scope 5), applied by the ingestor before anything is parsed:
- **move**: a file whose sha256 is already indexed under a path that no longer exists is the same
  document moved or renamed: its chunks are re-pointed at the new path (`Collection.move_source`),
  the manifest entry moves with them, nothing is embedded and the old path is gone (one "moved" line);
- **duplicate**: the same content under a second existing path (or twice in one run) is indexed
  once; the other copy is reported "duplicate" with the path that holds it;
- **exclusion**: `docs remove` of a document whose file still exists records the path in the
  manifest's `excluded`; ingest and sync then skip it ("excluded", with how to undo) until
  `ingest --restore PATH` (a file or a folder) clears it;
- **labels**: a source is shown by its file name; when names collide in a collection, by the
  shortest trailing folders that tell them apart ("2024/hypertension-protocol.pdf").
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from ..files import now
from ..store.manifest import Manifest
from ..types import DocumentReport


class RunIdentity:
    """Identity decisions over one ingest run (remembers the contents already claimed in it)."""

    def __init__(self, manifest: Manifest):
        self.manifest = manifest
        self.claimed: dict[str, str] = {}  # sha256 -> path written (or kept) in this run
        self.by_sha: dict[str, list[str]] = {}
        for path, d in manifest.documents.items():
            self.by_sha.setdefault(d["sha256"], []).append(path)

    def excluded(self, key: str) -> DocumentReport | None:
        rec = self.manifest.excluded.get(key)
        if rec is None:
            return None
        return DocumentReport(key, "excluded", sha256=rec.get("sha256"), warnings=[
            f"removed from the collection on {rec.get('removed_at', '?')[:10]}; kept out of ingest and sync "
            f"(`ragmed ingest --restore {key}` adds it back)"])

    def claim(self, key: str, sha: str) -> tuple[str, str] | None:
        """For a file that is not indexed under `key` with this content: ("move", old path),
        ("duplicate", path holding it) or None (a new or changed document to write). Records the
        claim of `sha` by `key` for the rest of the run."""
        if sha in self.claimed and self.claimed[sha] != key:
            return "duplicate", self.claimed[sha]
        others = [p for p in self.by_sha.get(sha, []) if p != key]
        entry = self.manifest.documents.get(key)
        if others and entry is None:
            gone = [p for p in others if not Path(p).exists()]
            if gone:
                self.claimed[sha] = key
                return "move", gone[0]
            self.claimed[sha] = others[0]
            return "duplicate", others[0]
        self.claimed[sha] = key
        return None


def apply_move(collection, manifest: Manifest, old: str, new: str) -> DocumentReport:
    """Re-point a moved document's chunks and manifest entry from `old` to `new` (one manifest save;
    the chunks first, so a crash between leaves the old entry, and the next run moves it again)."""
    entry = dict(manifest.documents[old])
    collection.move_source(entry["doc_id"], new)
    manifest.documents.pop(old)
    entry["moved_from"] = old
    entry["moved_at"] = now()
    manifest.documents[new] = entry
    manifest.save()
    return DocumentReport(new, "moved", pages=entry.get("pages", 0), chunks=entry.get("chunks", 0),
                          sha256=entry["sha256"], moved_from=old)


def duplicate_report(key: str, sha: str, holder: str) -> DocumentReport:
    return DocumentReport(key, "duplicate", sha256=sha, duplicate_of=holder)


def exclude(manifest: Manifest, key: str, sha: str) -> None:
    """Record that `key` was removed on purpose (its file still exists); saved by the caller."""
    manifest.excluded[key] = {"sha256": sha, "removed_at": now()}


def restore(manifest: Manifest, paths: Iterable[str | Path]) -> list[str]:
    """Clear the exclusions of `paths` (files, or folders: every exclusion under them); returns the
    paths restored. Saved by the caller."""
    out = []
    for raw in paths:
        base = str(Path(raw).expanduser().resolve())
        for key in list(manifest.excluded):
            if key == base or key.startswith(base.rstrip("/") + "/"):
                del manifest.excluded[key]
                out.append(key)
    return out


def source_labels(paths: Iterable[str]) -> dict[str, str]:
    """{path: label}: the file name, or for names shared by several paths the shortest run of
    trailing folders that makes each label unique ("2024/x.pdf" vs "2025/x.pdf")."""
    paths = sorted(set(paths))
    groups: dict[str, list[str]] = {}
    for p in paths:
        groups.setdefault(Path(p).name, []).append(p)
    labels = {}
    for name, group in groups.items():
        if len(group) == 1:
            labels[group[0]] = name
            continue
        parts = {p: Path(p).parts for p in group}
        depth = 2
        longest = max(len(x) for x in parts.values())
        while depth < longest:
            tails = ["/".join(parts[p][-depth:]) for p in group]
            if len(set(tails)) == len(tails):
                break
            depth += 1
        for p in group:
            labels[p] = "/".join(parts[p][-depth:]).lstrip("/") or p
    return labels
