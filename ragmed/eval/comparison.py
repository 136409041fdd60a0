"""`ragmed compare`: the same model, questions, decoding and seed, with and without retrieved evidence.

    result = compare("pubmedqa", collection="pubmedqa", limit=100, split="dev", out="runs/pqa")
    result.summary["arms"]["grounded"]["accuracy"], result.summary["paired"]["mcnemar_p"]

For every question both arms are generated (grounded: the question's k passages retrieved from the
collection by the question alone, options hidden from the retriever; ungrounded: no passages), the
answers parsed into labels (eval/parse.py, with an explicit unparseable bucket), and one JSONL
record written per question. A rerun with the same `out` continues where the last one stopped: the
run header must match (same model file, dataset file, split, seed, k, decoding and collection), and
already answered questions are not asked again. Generation is greedy and seeded, and llama.cpp's
prompt cache is off, so a given seed gives the same records however the run is cut.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..version import __version__
from ..config import cache_dir
from ..errors import InputError
from ..store.manifest import now
from . import qa
from .parse import parse_label
from .stats import summarise

ARMS = ("grounded", "ungrounded")
# Header fields that must match for a rerun to continue a run (the rest is informative).
RESUME_KEYS = (("dataset", "sha256"), ("dataset", "split"), ("model", "sha256"), ("model", "id"),
               ("decoding",), ("retrieval", "k"), ("retrieval", "mode"), ("retrieval", "manifest_sha256"),
               ("prompts", "sha256"), ("thinking",))


@dataclass
class CompareResult:
    header: dict
    records: list[dict]
    summary: dict
    out: Path | None = None

    def to_dict(self) -> dict:
        return {"header": self.header, "summary": self.summary, "out": str(self.out) if self.out else None}


def _sha256_file(path: Path) -> str:
    """sha256 of a file, cached by (path, size, mtime): model files are large."""
    st = path.stat()
    cache = cache_dir() / "sha256.json"
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    try:
        known = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        from ..ingest.extract import file_sha256

        known[key] = file_sha256(path)
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(known))
        except OSError:
            pass
    return known[key]


def _quantisation(path: Path | None, metadata: dict) -> str:
    m = re.search(r"(?i)(IQ\d_\w+|Q\d_K(?:_[SML])?|Q\d_\d|Q\d_0|Q\d_1|BF16|F16|F32)", path.name if path else "")
    if m:
        return m.group(1).upper()
    return f"file_type {metadata.get('general.file_type', 'unknown')}"


def _prompts_sha() -> str:
    from ..prompt import grounded, qa as qa_prompts, safety

    text = "".join(Path(m.__file__).read_text(encoding="utf-8") for m in (grounded, qa_prompts, safety))
    return hashlib.sha256(text.encode()).hexdigest()


def run_header(rag, ds: qa.QADataset, spec: str, split: str, limit: int | None, k: int, n_items: int) -> dict:
    gen = rag.generator
    path = Path(gen.model_path) if getattr(gen, "model_path", None) else None
    meta = gen.metadata if hasattr(gen, "metadata") else {}
    manifest = rag.index.require_manifest()
    params = rag.sampling_params()
    return {
        "ragmed_version": __version__,
        "started_at": now(),
        "command": " ".join(sys.argv) if sys.argv and "ragmed" in sys.argv[0] else "",
        "dataset": {"spec": spec, "name": ds.name, "path": str(ds.path.resolve()), "sha256": ds.sha256,
                    "split": split, "limit": limit, "questions": n_items},
        "model": {"id": gen.model_id, "path": str(path) if path else None,
                  "sha256": _sha256_file(path) if path and path.exists() else None,
                  "quantisation": _quantisation(path, meta), "n_ctx": gen.n_ctx, "chat_style": gen.chat_style,
                  "generator": type(gen).__name__},
        "decoding": {**asdict(params), "reasoning_tokens": rag.settings.reasoning_tokens
                     if gen.chat_style == "chatml" else None, "preset": rag.settings.preset},
        "retrieval": {"collection": rag.index.name, "k": k, "mode": rag.settings.retrieval,
                      "embedder": manifest.build.get("embedder"),
                      "manifest_sha256": hashlib.sha256(_manifest_text(rag).encode()).hexdigest(),
                      "documents": len(manifest.documents),
                      "query": "question only (options hidden from the retriever)"},
        "prompts": {"sha256": _prompts_sha(), "passage_tokens": rag.settings.passage_tokens},
    }


def _get(d: dict, path: tuple[str, ...]):
    for p in path:
        d = d.get(p, {}) if isinstance(d, dict) else {}
    return d


def _load_records(path: Path) -> list[dict]:
    """Records written so far; a half-written last line (the run was killed) is dropped."""
    if not path.exists():
        return []
    good, lines = [], path.read_text(encoding="utf-8").splitlines(keepends=True)
    for line in lines:
        try:
            good.append(json.loads(line))
        except json.JSONDecodeError:
            break
    if len(good) != len(lines) or (lines and not lines[-1].endswith("\n")):
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in good), encoding="utf-8")
    return good


def _arm(rag, gen, prompt, item: qa.QAItem, params) -> dict:
    from ..generate.thinking import split_reasoning

    thinking, mode = gen.chat_style == "chatml", rag.pipeline.thinking()  # on, off or budget N
    t0 = time.perf_counter()
    out = gen.generate(prompt.messages, params,
                       reasoning_tokens=mode.reasoning_tokens(rag.settings.reasoning_tokens) if thinking else None,
                       **({"think": False} if thinking and mode.mode == "off" else {}))
    split = split_reasoning(out.text)
    label = parse_label(split.answer, item.kind, item.options)
    return {"answer": split.answer, "reasoning": split.reasoning, "label": label, "parsed": label is not None,
            "correct": label == item.gold, "prompt_tokens": out.prompt_tokens,
            "completion_tokens": out.completion_tokens, "reasoning_tokens": out.reasoning_tokens,
            "ttft_s": round(out.first_token_s, 4) if out.first_token_s is not None else None,
            "latency_s": round(time.perf_counter() - t0, 4), "finish_reason": out.finish_reason}


def answer_item(rag, item: qa.QAItem, k: int) -> dict:
    """Both arms for one question."""
    from ..ground.citations import resolve
    from ..ground.verify import verify
    from ..prompt import qa as qa_prompts
    from ..ground.claims import says_not_found

    gen, params = rag.generator, rag.sampling_params()
    t0 = time.perf_counter()
    r = rag.pipeline.retrieve(item.question, k)  # the same retrieve step as `ask` (gate included)
    retrieved, decision, notices = r.passages[:k], r.decision, r.notices  # the model reads the top k
    retrieve_s = time.perf_counter() - t0
    prompt = qa_prompts.grounded(item.question, item.kind, item.options, retrieved, gen.prompt_tokens,
                                 rag.pipeline.context_budget(), passage_tokens=rag.settings.passage_tokens)
    g = _arm(rag, gen, prompt, item, params)
    g["retrieve_s"] = round(retrieve_s, 4)
    checked = verify(g["answer"], prompt.passages, rag.checker)
    g["citations"] = [c.to_dict() for c in resolve(checked.answer, prompt.passages)[0]]
    g["support"] = checked.support.to_dict()
    g["claims"] = [c.to_dict() for c in checked.claims]
    g["model_abstained"] = says_not_found(g["answer"])
    g["passages_in_prompt"] = len(prompt.passages)
    u = _arm(rag, gen, qa_prompts.ungrounded(item.question, item.kind, item.options), item, params)
    own = next((p.rank for p in retrieved if p.id == item.id), None)
    return {
        "id": item.id, "subset": item.subset, "question": item.question, "options": item.options,
        "kind": item.kind, "gold": item.gold, "grounded": g, "ungrounded": u,
        "passages": [{"n": i, "id": p.id, "source": p.source, "title": p.title, "page": p.page,
                      "section": p.section_path, "score": round(p.score, 5),
                      "scores": {k2: round(v, 5) for k2, v in p.scores.items()}, "ranks": p.ranks,
                      "text": p.text} for i, p in enumerate(retrieved, 1)],
        "own_context_rank": own,  # PubMedQA*: rank of the question's own abstract (None: not retrieved)
        "gate": {"answerable": decision.answerable, "score": decision.score, "threshold": decision.threshold},
        "notices": notices,
    }


def compare(
    dataset: str, collection: str | None = None, index_dir: str | Path | None = None, model: str | None = None,
    k: int = 3, limit: int | None = None, split: str = "dev", seed: int = 0, out: str | Path | None = None,
    data_dir: str | Path | None = None, max_tokens: int = 64, n_ctx: int | None = None, rag=None,
    progress: bool = False, report: bool = True, chroma_url: str | None = None, thinking: str | None = None,
) -> CompareResult:
    """Answer every selected question grounded and ungrounded; see the module docstring.

    `rag`: an existing `RagMed` to use (its collection and model); otherwise one is made from
    `collection`, `index_dir`, `chroma_url`, `model`, `max_tokens`, `n_ctx` and `seed` (deterministic
    preset)."""
    from ..api import RagMed

    if k < 1:
        raise InputError("k must be at least 1.")
    ds = qa.load(dataset, Path(data_dir) if data_dir else None)
    items = ds.select(split, limit)
    if not items:
        raise InputError(f"No {split} questions in {dataset}.")
    if rag is None:
        rag = RagMed(collection=collection, index_dir=index_dir, model=model, max_tokens=max_tokens,
                     n_ctx=n_ctx, seed=seed, preset="deterministic", abstain=False, chroma_url=chroma_url,
                     thinking=thinking)
    rag.index.require_manifest()
    gen = rag.generator
    if hasattr(gen, "prefix_cache"):
        gen.prefix_cache = False  # records must not depend on which question came before
    header = run_header(rag, ds, dataset, split, limit, k, len(items))
    header["thinking"] = rag.settings.thinking  # a thinking mode is an arm of its own (`--thinking`)
    records: dict[str, dict] = {}
    rec_path = None
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        rec_path = out / "records.jsonl"
        head_path = out / "header.json"
        if head_path.exists() and rec_path.exists():
            old = json.loads(head_path.read_text())
            diff = [".".join(key) for key in RESUME_KEYS if _get(old, key) != _get(header, key)]
            if diff:
                raise InputError(f"{out} holds a run with other settings ({', '.join(diff)} differ). "
                                 "Use another --out, or delete that folder to start again.")
            header["started_at"] = old.get("started_at", header["started_at"])
            header["resumed_at"] = now()
        records = {r["id"]: r for r in _load_records(rec_path)}
        head_path.write_text(json.dumps(header, indent=2), encoding="utf-8")
    todo = [it for it in items if it.id not in records]
    from tqdm import tqdm

    f = rec_path.open("a", encoding="utf-8") if rec_path else None
    try:
        for item in tqdm(todo, desc="compare", unit="question", file=sys.stderr, disable=not progress):
            rec = answer_item(rag, item, k)
            records[item.id] = rec
            if f:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
    finally:
        if f:
            f.close()
    ordered = [records[it.id] for it in items]
    summary = summarise(ordered, seed=seed)
    result = CompareResult(header, ordered, summary, out)
    if out is not None:
        (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        if report:
            from .report import write_reports

            write_reports(result)
    return result


def _manifest_text(rag) -> str:
    """The collection manifest's stored text (a local file, or a record on a Chroma server)."""
    return rag.index.manifest_text()
