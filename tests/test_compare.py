"""`ragmed compare`: parser, statistics, datasets, determinism and resume with the bundled model."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ragmed import InputError
from ragmed.cli import cli
from ragmed.eval import compare
from ragmed.eval.parse import parse_choice, parse_label, parse_yes_no
from ragmed.eval.qa import load
from ragmed.eval.stats import bootstrap_ci, mcnemar_exact

OPTS = {"A": "Aspirin", "B": "Ibuprofen", "C": "Paracetamol", "D": "Morphine"}


@pytest.mark.parametrize("text,kind,want", [
    ("Yes, the passages show it [1].", "yesnomaybe", "yes"),
    ("no", "yesno", "no"),
    ("Answer: maybe", "yesnomaybe", "maybe"),
    ("Answer: maybe", "yesno", None),                       # maybe is not a label of a yes/no question
    ("The answer to the question is: No.\n\nBecause ...", "yesnomaybe", "no"),
    ("<think>it could be yes</think>No.", "yesnomaybe", "no"),  # only the answer after the trace counts
    ("I think yes or no", "yesnomaybe", None),              # both: unparseable, not a guess
    ("Yes. However, the answer is no.", "yesnomaybe", None),  # contradicts itself
    ("Based on the passages, it is unclear.", "yesnomaybe", None),
    ("Not stated.", "yesno", None),                          # "Not" is not "no"
    ("", "yesno", None),
])
def test_yes_no_parser(text, kind, want):
    assert parse_label(text, kind) == want


@pytest.mark.parametrize("text,want", [
    ("B", "B"), ("(C) Paracetamol", "C"), ("The correct answer is D.", "D"), ("Answer is: (d)", "D"),
    ("I would choose option b", "B"), ("Paracetamol is the safest choice.", "C"),
    ("A or B", None), ("Aspirin and Ibuprofen", None), ("Answer: E", None), ("B) Ibuprofen. The answer is C", None),
])
def test_choice_parser(text, want):
    assert parse_choice(text, OPTS) == want
    assert parse_yes_no("Yes") == "yes"


def test_statistics():
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(5, 0) == pytest.approx(0.0625)
    assert mcnemar_exact(10, 2) == pytest.approx(2 * (1 + 12 + 66) / 4096, abs=1e-6)
    assert mcnemar_exact(3, 3) == 1.0
    assert bootstrap_ci([1, 1, 1]) == (1.0, 1.0)
    lo, hi = bootstrap_ci([1, 0] * 50, seed=1)
    assert lo < 0.5 < hi and bootstrap_ci([1, 0] * 50, seed=1) == (lo, hi)


QUESTIONS = [
    {"id": "d1", "question": "Are stable patients seen every 6 months?", "answer": "yes"},
    {"id": "d2", "question": "Is amlodipine started at 5 mg once daily?", "answer": "yes"},
    {"id": "d3", "question": "Should a cuff that is too small be used?", "answer": "no"},
    {"id": "d4", "question": "Which medicine is started first in a 40-year-old patient?",
     "options": {"A": "ramipril", "B": "amlodipine", "C": "indapamide"}, "answer": "A"},
]


@pytest.fixture(scope="module")
def questions(tmp_path_factory):
    path = tmp_path_factory.mktemp("qa") / "demo-questions.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n")
    return path


def test_jsonl_datasets_are_checked(tmp_path, questions):
    ds = load(str(questions))
    assert [it.kind for it in ds.items] == ["yesno", "yesno", "yesno", "choice"] and len(ds.sha256) == 64
    for bad, msg in [({"id": "x", "question": "q?"}, "answer"), ({"id": "x", "question": "q?", "answer": "perhaps"}, "yes, no"),
                     ({"id": "x", "question": "q?", "answer": "Z", "options": {"A": "a"}}, "not one of")]:
        p = tmp_path / "bad.jsonl"
        p.write_text(json.dumps(bad) + "\n")
        with pytest.raises(InputError, match=msg):
            load(str(p))
    p.write_text(json.dumps(QUESTIONS[0]) + "\n" + json.dumps(QUESTIONS[0]) + "\n")
    with pytest.raises(InputError, match="twice"):
        load(str(p))
    with pytest.raises(InputError, match="unknown"):
        load("no-such-dataset")


TIMING = ("latency_s", "ttft_s", "retrieve_s")


def _stable(records):
    """Records without wall-clock fields."""
    out = []
    for r in records:
        r = json.loads(json.dumps(r))
        for arm in ("grounded", "ungrounded"):
            for key in TIMING:
                r[arm].pop(key, None)
        out.append(r)
    return out


@pytest.fixture(scope="module")
def full_run(demo_rag, questions, tmp_path_factory):
    out = tmp_path_factory.mktemp("run-full")
    return compare(str(questions), collection="demo", index_dir=demo_rag.index.index_dir, split="all",
                   out=out, max_tokens=48)


def test_compare_records_summary_and_reports(full_run):
    r = full_run
    assert [x["id"] for x in r.records] == ["d1", "d2", "d3", "d4"]
    rec = r.records[0]
    assert rec["passages"] and rec["passages"][0]["scores"] and rec["gate"]["score"] is not None
    for arm in ("grounded", "ungrounded"):
        assert rec[arm]["answer"] and rec[arm]["prompt_tokens"] > 0 and "label" in rec[arm]
    assert rec["grounded"]["prompt_tokens"] > rec["ungrounded"]["prompt_tokens"]  # the passages
    assert "support" in rec["grounded"] and "citations" in rec["grounded"]
    s = r.summary
    g, u = s["arms"]["grounded"], s["arms"]["ungrounded"]
    for arm in (g, u):
        assert arm["questions"] == 4 and arm["correct"] + 0 <= 4 and arm["unparseable"] <= 4
        assert arm["accuracy"] == arm["correct"] / 4
    p = s["paired"]
    assert p["wins"] + p["losses"] + p["ties_both_correct"] + p["ties_both_wrong"] == 4
    h = r.header
    assert h["model"]["quantisation"] == "Q4_1" and len(h["model"]["sha256"]) == 64
    assert h["decoding"]["temperature"] == 0.0 and h["decoding"]["seed"] == 0
    assert len(h["dataset"]["sha256"]) == 64 and h["retrieval"]["manifest_sha256"]
    for name in ("header.json", "records.jsonl", "summary.json", "report.md", "report.html", "plots/accuracy.png"):
        assert (r.out / name).exists(), name
    html = (r.out / "report.html").read_text()
    assert "data:image/png;base64," in html and "<script" not in html and "http" not in html.split("<style>")[0]
    assert "McNemar" in (r.out / "report.md").read_text()


def test_same_seed_same_records(demo_rag, questions, full_run, tmp_path):
    again = compare(str(questions), collection="demo", index_dir=demo_rag.index.index_dir, split="all",
                    out=tmp_path / "again", max_tokens=48)
    assert _stable(again.records) == _stable(full_run.records)


def test_resume_after_interruption_gives_the_same_records(demo_rag, questions, full_run, tmp_path):
    out = tmp_path / "resumed"
    first = compare(str(questions), collection="demo", index_dir=demo_rag.index.index_dir, split="all",
                    out=out, max_tokens=48, limit=2)
    assert len(first.records) == 2
    with (out / "records.jsonl").open("a") as f:  # killed in the middle of writing the third record
        f.write('{"id": "d3", "question": "Should a cu')
    args = ["compare", "--dataset", str(questions), "-c", "demo", "--index-dir", str(demo_rag.index.index_dir),
            "--split", "all", "--max-tokens", "48", "--out", str(out), "--json"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["header"]["resumed_at"]
    records = [json.loads(x) for x in (out / "records.jsonl").read_text().splitlines()]
    assert _stable(records) == _stable(full_run.records)
    res = CliRunner().invoke(cli, args[:-1] + ["-k", "2"])  # other settings, same folder: refused
    assert res.exit_code == 1 and "other settings" in res.output


def test_datasets_build_from_a_corpus_jsonl(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in [
        {"id": "p1", "title": "Hand hygiene", "text": "Staff clean their hands for 20 seconds before each patient."},
        {"id": "p2", "title": "Wounds", "text": "Dressings are changed every 2 days."},
        {"id": "p3", "title": "Empty", "text": ""}]) + "\n")
    res = CliRunner().invoke(cli, ["datasets", "build", "mini-corpus", "--from", str(corpus), "--index-dir",
                                   str(tmp_path / "idx"), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert info["passages"] == 2 and len(info["sha256"]) == 64
    from ragmed import RagMed

    hits = RagMed(collection="mini-corpus", index_dir=tmp_path / "idx").search("how often are dressings changed", k=1)
    assert hits[0].id == "p2"
    res = CliRunner().invoke(cli, ["datasets", "build", "x", "--from", str(corpus)])
    assert res.exit_code == 1 and "Collection name" in res.output


def test_the_notebook_runs(monkeypatch):
    """notebooks/compare_demo.ipynb, executed top to bottom with the bundled model (nbclient); on 6 of
    its 20 questions, to keep the suite's time bounded."""
    import nbformat
    from nbclient import NotebookClient

    from conftest import ROOT

    monkeypatch.setenv("RAGMED_NOTEBOOK_LIMIT", "6")
    nb = nbformat.read(ROOT / "notebooks" / "compare_demo.ipynb", as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    out = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "grounded: accuracy" in out and "paired:" in out and "report.html" in out
    assert any(o.get("data", {}).get("image/png") for c in nb.cells for o in c.get("outputs", []))
