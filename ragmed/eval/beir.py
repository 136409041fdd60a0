"""Read a BEIR-format folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.

Splits are ragmed's, not the folder's: a query is in *dev* when the first hex digit of sha1(query id)
is 0-b, in *test* when it is c-f (tune on dev, report on test). Queries without a positive judgement
are left out. A query may share its id with a passage (PubMedQA-style); nothing here drops such
pairs, unlike BEIR's default evaluator, which would score those datasets zero.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..ingest.extract import file_sha256

SPLITS = ("dev", "test", "all")
DEV_DIGITS = frozenset("0123456789ab")


def split_of(query_id: str) -> str:
    return "dev" if hashlib.sha1(query_id.encode("utf-8")).hexdigest()[0] in DEV_DIGITS else "test"


@dataclass
class BeirDataset:
    path: Path
    corpus: dict[str, dict]  # id -> {"title", "text", "metadata"}
    queries: dict[str, str]  # id -> text
    qrels: dict[str, dict[str, int]]  # query id -> {passage id: grade}
    qrels_file: Path
    sha256: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    corpus_file: Path | None = None  # default: <path>/corpus.jsonl

    @property
    def name(self) -> str:
        return self.path.name if self.corpus_file is None else self.corpus_file.stem

    @property
    def corpus_path(self) -> Path:
        return self.corpus_file or self.path / "corpus.jsonl"

    def query_ids(self, split: str = "test") -> list[str]:
        if split not in SPLITS:
            raise InputError(f"--split must be one of {', '.join(SPLITS)}, not {split!r}.")
        ids = [q for q in self.queries if any(g > 0 for g in self.qrels.get(q, {}).values())]
        return sorted(ids if split == "all" else [q for q in ids if split_of(q) == split])


def load_corpus(path: str | Path) -> BeirDataset:
    """Only a corpus: a BEIR folder's corpus.jsonl, or any JSONL of {"_id" or "id", "title", "text"}."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "corpus.jsonl"
    if not p.is_file():
        raise InputError(f"{path}: no corpus found (give a BEIR folder or a .jsonl of id/title/text rows).")
    corpus = {}
    for row in _jsonl(p, id_field=("_id", "id")):
        if not str(row.get("text") or "").strip():
            continue
        corpus[str(row.get("_id", row.get("id")))] = {"title": row.get("title") or "", "text": row["text"],
                                                       "metadata": row.get("metadata") or {}}
    if not corpus:
        raise InputError(f"{p} holds no passages with text.")
    return BeirDataset(p.parent, corpus, {}, {}, p, {"corpus.jsonl": file_sha256(p)},
                       corpus_file=None if p.name == "corpus.jsonl" else p)


def jsonl_rows(path: Path, id_field: tuple[str, ...] = ("_id",)) -> list[tuple[int, dict]]:
    """(line number, row) of a JSONL file; every row must have one of the `id_field` keys."""
    out = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not valid JSON ({exc.msg}).") from exc
            if not isinstance(row, dict) or not any(f in row for f in id_field):
                raise InputError(f"{path}:{n}: no \"{id_field[0]}\" field.")
            out.append((n, row))
    return out


def _jsonl(path: Path, id_field: tuple[str, ...] = ("_id",)) -> list[dict]:
    return [row for _, row in jsonl_rows(path, id_field)]


def load_beir(path: str | Path, qrels: str | None = None) -> BeirDataset:
    """Load a BEIR folder; `qrels` names the qrels file (default: test.tsv, else the only one)."""
    root = Path(path).expanduser()
    for need in ("corpus.jsonl", "queries.jsonl"):
        if not (root / need).is_file():
            raise InputError(f"{root} is not a BEIR folder: {need} is missing (expected corpus.jsonl, "
                             "queries.jsonl and qrels/*.tsv).")
    files = sorted((root / "qrels").glob("*.tsv")) if (root / "qrels").is_dir() else []
    if qrels:
        chosen = root / "qrels" / (qrels if qrels.endswith(".tsv") else qrels + ".tsv")
    elif (root / "qrels" / "test.tsv").is_file():
        chosen = root / "qrels" / "test.tsv"
    elif len(files) == 1:
        chosen = files[0]
    else:
        raise InputError(f"{root}/qrels: found {[f.name for f in files] or 'no .tsv files'}; name one with --qrels.")
    if not chosen.is_file():
        raise InputError(f"qrels file {chosen} does not exist.")
    corpus = {}
    for row in _jsonl(root / "corpus.jsonl"):
        corpus[str(row["_id"])] = {"title": row.get("title") or "", "text": row.get("text") or "",
                                   "metadata": row.get("metadata") or {}}
    queries = {str(r["_id"]): str(r.get("text") or "") for r in _jsonl(root / "queries.jsonl")}
    judged: dict[str, dict[str, int]] = {}
    with chosen.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        for n, row in enumerate(reader, 1):
            if not row or (n == 1 and row[0] == "query-id"):
                continue
            if len(row) < 3:
                raise InputError(f"{chosen}:{n}: expected query-id<TAB>corpus-id<TAB>score.")
            try:
                grade = int(float(row[2]))
            except ValueError as exc:
                raise InputError(f"{chosen}:{n}: score {row[2]!r} is not a number.") from exc
            judged.setdefault(row[0], {})[row[1]] = grade
    shas = {p.name: file_sha256(p) for p in (root / "corpus.jsonl", root / "queries.jsonl", chosen)}
    return BeirDataset(root, corpus, queries, judged, chosen, shas)
