"""Corpus shards (ingest/corpus.py): BEIR folders, passage JSONL and the MedRAG snippet format, read from
real BioASQ snippets rewritten into each format."""

from __future__ import annotations

import json

import pytest

from conftest import need_eval
from ragmed.errors import InputError
from ragmed.ingest.corpus import corpus_files, scan_shards, shard_chunks


@pytest.fixture(scope="module")
def rows():
    src = need_eval("beir/bioasq_7b-11b_snippets") / "corpus.jsonl"
    with src.open(encoding="utf-8") as f:
        return [json.loads(line) for _, line in zip(range(250), f)]


def _passages(path, size):
    out = []
    for s in scan_shards(path, size):
        chunks, skipped = shard_chunks(s, s.read())
        out.append((s, chunks, skipped))
    return out


def test_medrag_folder_reads_like_the_beir_corpus(rows, tmp_path):
    beir = tmp_path / "beir"
    beir.mkdir()
    (beir / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    medrag = tmp_path / "pubmed" / "chunk"  # MedRAG ships corpus/<name>/chunk/*.jsonl
    medrag.mkdir(parents=True)
    for i, part in enumerate((rows[:100], rows[100:])):
        (medrag / f"pubmed23n{i + 1:04d}.jsonl").write_text("".join(json.dumps(
            {"id": r["_id"], "title": r.get("title", ""), "content": r["text"],
             "contents": f"{r.get('title', '')}. {r['text']}"}) + "\n" for r in part), encoding="utf-8")
    a = [c for _, cs, _ in _passages(beir, 64) for c in cs]
    b = [c for _, cs, _ in _passages(medrag.parent, 64) for c in cs]
    assert [(c.id, c.title, c.text) for c in a] == [(c.id, c.title, c.text) for c in b]
    assert [f.name for f in corpus_files(medrag.parent)] == ["pubmed23n0001.jsonl", "pubmed23n0002.jsonl"]
    shards = [s for s, _, _ in _passages(medrag.parent, 64)]
    assert [s.n_lines for s in shards] == [64, 36, 64, 64, 22]  # shards never span files


def test_shards_are_stable_and_a_changed_line_changes_only_its_shard(rows, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    first = list(scan_shards(path, 100))
    assert first == list(scan_shards(path, 100)) and len({s.doc_id for s in first}) == 3
    changed = [dict(r) for r in rows]
    changed[150]["text"] += " (revised)"
    path.write_text("".join(json.dumps(r) + "\n" for r in changed), encoding="utf-8")
    second = list(scan_shards(path, 100))
    assert [a.sha256 == b.sha256 for a, b in zip(first, second)] == [True, False, True]
    assert [a.key for a in first] == [b.key for b in second]


def test_rows_without_text_are_counted_and_bad_json_names_the_line(rows, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(rows[0]) + "\n" + json.dumps({"_id": "empty", "text": " "}) + "\n\n"
                    + json.dumps(rows[1]) + "\n", encoding="utf-8")
    [(shard, chunks, skipped)] = _passages(path, 10)
    assert [c.id for c in chunks] == [rows[0]["_id"], rows[1]["_id"]] and skipped == 1 and shard.n_lines == 3
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2 of the shard"):
        _passages(bad, 10)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no corpus.jsonl"):
        corpus_files(tmp_path / "empty")


def test_cluster_options_without_ray_are_refused(tmp_path):
    from click.testing import CliRunner

    from ragmed.cli import cli

    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"_id": "1", "text": "a"}\n', encoding="utf-8")
    res = CliRunner().invoke(cli, ["datasets", "build", "x", "--from", str(corpus), "--embed-actors", "4"])
    assert res.exit_code == 2 and "--embed-actors need --ray" in res.output
