"""A passage corpus read in shards, for collection builds at corpus scale (ingest/distributed.py).

Formats (one passage per JSON line):

- a BEIR folder: `corpus.jsonl` of {"_id", "title", "text"};
- a passage JSONL file: {"_id" or "id", "title", "text"};
- the MedRAG corpus snippet format (PubMed, StatPearls, textbooks, Wikipedia as MedRAG ships them):
  a folder whose `chunk/` subfolder (or the folder itself) holds *.jsonl files of {"id", "title",
  "content", "contents"} ("contents" is title + content for BM25 in MedRAG; ragmed indexes title
  and content itself). Source: the MedRAG/pubmed dataset card, "Dataset Structure".

A shard is `shard_passages` consecutive non-empty lines of one file, identified by the file and
its number there, and versioned by the sha256 of its bytes: a shard whose bytes are unchanged is
the same shard in every run (that is what makes a killed build resumable without duplicates).
Only byte offsets are kept in memory while scanning, so a 23.9M-line corpus costs a few MB here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import InputError
from ..types import Chunk

SHARD_PASSAGES = 4096  # passages per shard (default): one manifest commit per shard


@dataclass(frozen=True)
class Shard:
    """Lines [start, end) bytes of `file`: `n_lines` passages (empty lines excluded)."""

    file: str  # resolved path
    number: int  # position of the shard within its file
    start: int
    end: int
    n_lines: int
    sha256: str

    @property
    def key(self) -> str:
        """The shard's name in the manifest (its 'document')."""
        return f"corpus:{self.file}#shard-{self.number:06d}"

    @property
    def doc_id(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()[:16]

    def read(self) -> bytes:
        with open(self.file, "rb") as f:
            f.seek(self.start)
            return f.read(self.end - self.start)


def corpus_files(source: str | Path) -> list[Path]:
    """The JSONL files of a corpus (see the module docstring), in a fixed order."""
    p = Path(source).expanduser().resolve()
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise InputError(f"{source}: no such corpus file or folder.")
    if (p / "corpus.jsonl").is_file():
        return [p / "corpus.jsonl"]
    folder = p / "chunk" if (p / "chunk").is_dir() else p
    files = sorted(f for f in folder.glob("*.jsonl") if f.is_file())
    if not files:
        raise InputError(f"{source}: found no corpus.jsonl, chunk/*.jsonl or *.jsonl (give a BEIR folder, a passage "
                         "JSONL, or a MedRAG corpus folder).")
    return files


def scan_shards(source: str | Path, shard_passages: int = SHARD_PASSAGES) -> Iterator[Shard]:
    """The shards of a corpus, in order (reads every byte once, to hash it)."""
    if shard_passages < 1:
        raise InputError("--shard-size must be at least 1.")
    for path in corpus_files(source):
        number, start, pos, n = 0, 0, 0, 0
        h = hashlib.sha256()
        with path.open("rb") as f:
            for line in f:
                pos += len(line)
                h.update(line)
                if line.strip():
                    n += 1
                if n == shard_passages:
                    yield Shard(str(path), number, start, pos, n, h.hexdigest())
                    number, start, n, h = number + 1, pos, 0, hashlib.sha256()
        if n:
            yield Shard(str(path), number, start, pos, n, h.hexdigest())


def passage_of(row: dict) -> tuple[str, str, str] | None:
    """(id, title, text) of one corpus row; None for a row without text (skipped, and counted)."""
    pid = row.get("_id", row.get("id"))
    text = row.get("text")
    if text is None:
        text = row.get("content")  # MedRAG
    if pid is None or not str(text or "").strip():
        return None
    return str(pid), str(row.get("title") or ""), str(text)


def shard_chunks(shard: Shard, data: bytes) -> tuple[list[Chunk], int]:
    """The shard's passages as chunks (one passage per chunk, its id the passage id), and how many
    rows had no text. Raises InputError naming the file and line of a malformed row."""
    chunks: list[Chunk] = []
    skipped = 0
    for n, line in enumerate(data.splitlines()):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{shard.file} (shard {shard.number}, line {n + 1} of the shard): not valid JSON "
                             f"({exc.msg}).") from exc
        got = passage_of(row) if isinstance(row, dict) else None
        if got is None:
            skipped += 1
            continue
        pid, title, text = got
        chunks.append(Chunk(id=pid, doc_id=shard.doc_id, source=shard.key, file_sha256=shard.sha256, text=text,
                            start=0, end=len(text), page_start=1, page_end=1, page_labels=("1",), section=(),
                            n_tokens=0, index=len(chunks), title=title))
    return chunks, skipped
