"""`ragmed eval retrieval`: metrics, splits, BEIR loading and a full run through the CLI."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from click.testing import CliRunner

from conftest import need_eval
from ragmed.cli import cli
from ragmed.errors import InputError
from ragmed.eval.beir import load_beir, split_of
from ragmed.eval.metrics import mrr_at, ndcg_at, percentile, recall_at


def test_metrics_known_values():
    rel = {"a": 1, "b": 1}
    assert ndcg_at(["a", "b", "x"], rel) == pytest.approx(1.0)
    # relevant at ranks 2 and 3: (1/log2(3) + 1/log2(4)) / (1 + 1/log2(3))
    assert ndcg_at(["x", "a", "b"], rel) == pytest.approx((1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3)))
    assert ndcg_at(["x", "y"], rel) == 0.0
    graded = {"a": 2, "b": 1}
    assert ndcg_at(["b", "a"], graded) == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert recall_at(["a", "x", "b"], rel, 2) == 0.5 and recall_at(["a", "x", "b"], rel, 3) == 1.0
    assert mrr_at(["x", "y", "b"], rel) == pytest.approx(1 / 3) and mrr_at(["x"], rel) == 0.0
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([5], 95) == 5


def test_split_is_sha1_of_the_query_id():
    for qid in ["q1", "q2", "21645374", "61f80d5d882a024a1000003c"]:
        first = hashlib.sha1(qid.encode()).hexdigest()[0]
        assert split_of(qid) == ("dev" if first in "0123456789ab" else "test")


PASSAGES = {
    "p1": "Amlodipine is started at 5 mg once daily for hypertension.",
    "p2": "Ramipril can raise potassium; check kidney function after two weeks.",
    "p3": "Co-trimoxazole 960 mg twice daily treats uncomplicated urinary infection.",
    "p4": "Tocilizumab blocks the IL-6 receptor in severe inflammation.",
    "p5": "Hand hygiene for twenty seconds prevents hospital infections.",
    "p6": "Metformin is the first-line drug for type 2 diabetes.",
    "p7": "Influenza vaccination is offered every autumn to adults over 65.",
    "p8": "Warfarin doses are adjusted to keep the INR between 2 and 3.",
}
QUERIES = {
    "q1": ("Which drug blocks the IL-6 receptor?", {"p4": 1}),
    "q2": ("What is the starting dose of amlodipine?", {"p1": 1}),
    "q3": ("How is a urinary tract infection treated?", {"p3": 1}),
    "q4": ("What INR range is targeted on warfarin?", {"p8": 1}),
    "q5": ("first-line medicine for type 2 diabetes", {"p6": 2, "p2": 0}),
    "p7": ("When is the flu vaccine offered to older adults?", {"p7": 1}),  # query id == passage id
}


def write_beir(d):
    (d / "qrels").mkdir(parents=True)
    with (d / "corpus.jsonl").open("w") as f:
        for pid, text in PASSAGES.items():
            f.write(json.dumps({"_id": pid, "title": "", "text": text}) + "\n")
    with (d / "queries.jsonl").open("w") as f:
        for qid, (text, _) in QUERIES.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    with (d / "qrels" / "test.tsv").open("w") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for qid, (_, rel) in QUERIES.items():
            for pid, g in rel.items():
                f.write(f"{qid}\t{pid}\t{g}\n")
    return d


def test_load_beir_and_errors(tmp_path):
    ds = load_beir(write_beir(tmp_path / "mini"))
    assert len(ds.corpus) == 8 and ds.qrels["q5"] == {"p6": 2, "p2": 0}
    assert set(ds.query_ids("all")) == set(QUERIES)
    assert set(ds.query_ids("dev")) | set(ds.query_ids("test")) == set(QUERIES)
    assert not set(ds.query_ids("dev")) & set(ds.query_ids("test"))
    with pytest.raises(InputError, match="corpus.jsonl is missing"):
        load_beir(tmp_path)
    (tmp_path / "mini" / "queries.jsonl").write_text('{"text": "no id"}\n')
    with pytest.raises(InputError, match='no "_id"'):
        load_beir(tmp_path / "mini")


def test_eval_cli_end_to_end(tmp_path):
    d = write_beir(tmp_path / "mini")
    out = tmp_path / "out"
    args = ["eval", "retrieval", "--dataset", str(d), "--split", "all", "--out", str(out),
            "--index-dir", str(tmp_path / "idx"), "--json"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert [r["run"] for r in summary["results"]] == ["dense", "lexical", "hybrid"]
    for r in summary["results"]:
        assert r["queries"] == 6 and 0 <= r["ndcg10"] <= 1 and r["p50_ms"] > 0
    hybrid = summary["results"][2]
    assert hybrid["recall10"] == 1.0 and hybrid["mrr10"] > 0.8  # eight passages, easy questions
    rows = [json.loads(x) for x in (out / "per_query_all.jsonl").read_text().splitlines()]
    assert len(rows) == 18
    same_id = [r for r in rows if r["query_id"] == "p7"]
    assert same_id and all(r["ndcg@10"] > 0 for r in same_id)  # a query may share its passage's id
    assert (out / "summary_all.md").read_text().startswith("| run |")
    # The corpus collection is reused on the next run (nothing re-embedded).
    res2 = CliRunner().invoke(cli, args[:-1] + ["--retrieval", "lexical"])
    assert res2.exit_code == 0 and "| lexical |" in res2.output


def test_pubmedqa_same_id_pairs_are_scored(tmp_path):
    """PubMedQA's BEIR view gives each query its passage's id; BEIR's default evaluator scores 0."""
    d = need_eval("beir/pubmedqa_pqal")
    res = CliRunner().invoke(cli, ["eval", "retrieval", "--dataset", str(d), "--split", "dev", "--limit", "60",
                                   "--retrieval", "hybrid", "--index-dir", str(tmp_path / "idx"), "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)["results"][0]
    assert r["queries"] == 60 and r["ndcg10"] > 0.8
