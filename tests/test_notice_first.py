"""A clinician reads who the guidance is for before any dose (cli/render_notices.py): asked for a
child's amlodipine dose on the sample protocol, whose scope excludes children, every CLI front end
(`ask` in evidence and answer mode, streamed and not, `chat`) prints the population notice above
the first evidence sentence, once; and in answer mode every source line, cited by the answer or
only by an evidence sentence, carries the document's date (cli/render_sources.py)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ragmed.cli import cli

CHILD_Q = "What is the amlodipine dose for children?"
NOTICE = "Your question is about children;"
DOSE = "Start amlodipine 5 mg once daily"


def run(demo_rag, *args: str, input: str | None = None) -> str:  # noqa: A002
    res = CliRunner().invoke(cli, [*args, "-c", "demo", "--index-dir", str(demo_rag.settings.index_dir)],
                             input=input)
    assert res.exit_code in (0, 3), res.output
    return res.stdout


@pytest.mark.parametrize("how", [["--mode", "evidence"], ["--no-stream"], ["--stream"]])
def test_ask_prints_the_population_notice_before_any_dose(demo_rag, how):
    out = run(demo_rag, "ask", CHILD_Q, "--max-tokens", "48", *how)
    assert out.count(NOTICE) == 1, out
    assert DOSE in out and out.index(NOTICE) < out.index(DOSE), out
    assert out.lstrip().startswith(NOTICE), out  # the first thing printed


@pytest.mark.parametrize("how", [["--evidence"], []])
def test_chat_prints_the_population_notice_before_any_dose(demo_rag, how):
    out = run(demo_rag, "chat", *how, input=f"{CHILD_Q}\n/quit\n")
    assert out.count(NOTICE) == 1 and out.index(NOTICE) < out.index(DOSE), out


def test_an_adult_question_has_no_notice(demo_rag):
    assert NOTICE not in run(demo_rag, "ask", "What is the amlodipine starting dose?", "--mode", "evidence")


def test_every_source_line_carries_the_documents_date_in_both_modes(demo_rag):
    """The demo model cites [1] only; the evidence sentences' [2] and [3] get their source lines
    from the evidence sentences, and read like the cited one (title, then its date)."""
    q = "How often are stable patients seen for follow-up?"
    for how in (["--no-stream", "--max-tokens", "64"], ["--mode", "evidence"]):
        out = run(demo_rag, "ask", q, *how)
        lines = out[out.index("Sources:"):].splitlines()
        heads = [i for i, line in enumerate(lines) if line.startswith("  [")]
        assert len(heads) >= 2, out
        for i in heads:
            assert lines[i + 1].strip().endswith("(dated 2026-01-01)"), (how, lines[i:i + 3])
