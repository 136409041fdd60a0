"""Question sets for `ragmed compare`: PubMedQA, BioASQ yes/no, MIRAGE, or your own JSONL.

| `--dataset`            | file (under the evaluation data folder)     | kind          |
|------------------------|---------------------------------------------|---------------|
| pubmedqa               | pubmedqa/ori_pqal.json (1,000 PQA-L)        | yes/no/maybe  |
| bioasq-yesno           | mirage/benchmark.json, "bioasq" (618)       | yes/no        |
| mirage                 | mirage/benchmark.json, all five subsets     | multiple choice (PubMedQA*/BioASQ as yes/no) |
| mirage:SUBSET          | medqa, medmcqa, mmlu, pubmedqa, bioasq      | as above      |
| PATH.jsonl             | your file                                   | from its rows |

Your JSONL, one question per line:

    {"id": "q1", "question": "Is X recommended for Y?", "answer": "yes"}
    {"id": "q2", "question": "Which ...?", "options": {"A": "...", "B": "..."}, "answer": "B"}

`id` (unique) and `question` are required; `answer` is "yes"/"no"/"maybe" without options, or an
option key with them. Questions without "maybe" in any answer are yes/no.

The split of an item is by sha1 of its id (dev: first hex digit 0-b, test: c-f), as everywhere in
ragmed. The question's own context (PubMedQA's abstract) is never given to the model: in the
grounded arm it has to be retrieved from the collection.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import eval_data_dir
from ..errors import InputError
from ..ingest.extract import file_sha256
from .beir import jsonl_rows, split_of

MIRAGE_SUBSETS = ("medqa", "medmcqa", "mmlu", "pubmedqa", "bioasq")
_YESNO_OPTIONS = {"yes", "no", "maybe"}


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    gold: str  # "yes" | "no" | "maybe" | an option key ("A")
    kind: str  # "yesno" | "yesnomaybe" | "choice"
    options: dict[str, str] = field(default_factory=dict)  # choice only
    subset: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class QADataset:
    name: str
    path: Path
    sha256: str
    items: list[QAItem]

    def select(self, split: str = "dev", limit: int | None = None) -> list[QAItem]:
        if split not in ("dev", "test", "all"):
            raise InputError(f"Split {split!r} is unknown: use dev, test or all.")
        items = [it for it in self.items if split == "all" or split_of(it.id) == split]
        return items[:limit] if limit else items


def default_eval_dir() -> Path:
    """`config.eval_data_dir()`: $RAGMED_EVAL_DIR, else ../shared/eval."""
    return eval_data_dir()


def _need(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"{path} not found. Point --data-dir (or $RAGMED_EVAL_DIR) at the folder that holds "
                         "the evaluation data, or give your own questions as a .jsonl file.")
    return path


def load(spec: str, data_dir: Path | None = None) -> QADataset:
    """A dataset by name (table above) or path to a JSONL file."""
    base = Path(data_dir) if data_dir else default_eval_dir()
    if spec.endswith(".jsonl") or Path(spec).is_file():
        return _load_jsonl(_need(Path(spec)))
    if spec == "pubmedqa":
        path = _need(base / "pubmedqa" / "ori_pqal.json")
        raw = json.loads(path.read_text(encoding="utf-8"))
        items = [QAItem(pid, " ".join(r["QUESTION"].split()), r["final_decision"].lower(), "yesnomaybe",
                        subset="pubmedqa") for pid, r in raw.items()]
        return QADataset("pubmedqa", path, file_sha256(path), items)
    name, _, subset = spec.partition(":")
    if spec == "bioasq-yesno":
        name, subset = "mirage", "bioasq"
    if name != "mirage" or (subset and subset not in MIRAGE_SUBSETS):
        raise InputError(f"Dataset {spec!r} is unknown: use pubmedqa, bioasq-yesno, mirage, "
                         f"mirage:{{{','.join(MIRAGE_SUBSETS)}}} or a .jsonl file.")
    path = _need(base / "mirage" / "benchmark.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    items = []
    for sub in [subset] if subset else MIRAGE_SUBSETS:
        for qid, r in raw.get(sub, {}).items():
            items.append(_mirage_item(f"{sub}:{qid}", sub, r))
    return QADataset(spec, path, file_sha256(path), items)


def _mirage_item(qid: str, subset: str, r: dict) -> QAItem:
    options = {k: str(v) for k, v in r["options"].items()}
    values = {v.strip().lower() for v in options.values()}
    if values <= _YESNO_OPTIONS:  # PubMedQA* and BioASQ-Y/N: yes/no(/maybe) labels, not letters
        gold = options[r["answer"]].strip().lower()
        return QAItem(qid, " ".join(r["question"].split()), gold,
                      "yesnomaybe" if "maybe" in values else "yesno", subset=subset)
    return QAItem(qid, " ".join(r["question"].split()), r["answer"], "choice", options, subset)


def _load_jsonl(path: Path) -> QADataset:
    items, seen, rows = [], set(), jsonl_rows(path, ("id",))
    for n, r in rows:
        for key in ("id", "question", "answer"):
            if not str(r.get(key, "")).strip():
                raise InputError(f'{path}:{n}: "{key}" is missing (see `ragmed compare --help` for the format).')
        if str(r["id"]) in seen:
            raise InputError(f"{path}:{n}: id {r['id']!r} appears twice.")
        seen.add(str(r["id"]))
    maybe = any(not r.get("options") and str(r["answer"]).strip().lower() == "maybe" for _, r in rows)
    for n, r in rows:
        options = {str(k): str(v) for k, v in (r.get("options") or {}).items()}
        answer = str(r["answer"]).strip()
        if options:
            if answer not in options:
                raise InputError(f"{path}:{n}: answer {answer!r} is not one of the options {sorted(options)}.")
            items.append(QAItem(str(r["id"]), r["question"].strip(), answer, "choice", options, "jsonl"))
        else:
            if answer.lower() not in _YESNO_OPTIONS:
                raise InputError(f"{path}:{n}: answer {answer!r} must be yes, no or maybe (or give options).")
            items.append(QAItem(str(r["id"]), r["question"].strip(), answer.lower(),
                                "yesnomaybe" if maybe else "yesno", subset="jsonl"))
    if not items:
        raise InputError(f"{path} holds no questions.")
    return QADataset(path.stem, path, file_sha256(path), items)
