"""The model reads the top k passages; the evidence sentences shown first come from a wider pool
(pipeline.EVIDENCE_PASSAGES), numbered as retrieved, and every [n] on the screen has its source line.

Real components: the bundled sample protocol, MiniLM, Chroma, the bundled SmolLM2 model.
"""

from __future__ import annotations

import re

from click.testing import CliRunner

from ragmed.cli import cli
from ragmed.pipeline import EVIDENCE_PASSAGES

Q = "What is the blood pressure target?"


def test_evidence_comes_from_the_pool_while_the_model_reads_k(demo_rag):
    a = demo_rag.ask(Q, k=2)
    assert len(a.passages) == EVIDENCE_PASSAGES  # numbered as retrieved: [n] = a.passages[n - 1]
    assert 0 < a.usage.passages_in_prompt <= 2  # what the model was given
    assert any(e.n > 2 for e in a.evidence), [(e.n, e.text) for e in a.evidence]
    for e in a.evidence:
        assert a.passages[e.n - 1].id == e.passage_id


def test_every_number_on_the_screen_has_its_source_line(demo_rag):
    idx = str(demo_rag.index.index_dir)
    res = CliRunner().invoke(cli, ["ask", Q, "-c", "demo", "--index-dir", idx, "--no-stream", "-k", "2"])
    assert res.exit_code in (0, 3), res.output
    body, _, sources = res.output.partition("\nSources:")
    shown = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    order = [int(n) for n in re.findall(r"^\s+\[(\d+)\]", sources, re.M)]
    listed = set(order)
    assert shown and shown <= listed, (shown, listed, res.output)
    assert order == sorted(listed), order  # in [n] order, each once
