"""The abstention gate reads questions as people type them (ground/gate.py, ground/asking.py).

Real components: a small generated collection (markdown leaflets written here, real MiniLM, real
Chroma, the real BM25 index), calibrated with `RagMed.calibrate` on ten questions of its own.
"""

from __future__ import annotations

import re

import pytest

from ragmed import RagMed
from ragmed.ground import asking, gate

TB = """# Tuberculosis: what patients should know

## What tuberculosis is

Tuberculosis (TB) is a disease caused by germs that are spread from person to person through the air
when a person with active TB disease coughs, speaks or sings. TB usually affects the lungs.

## Symptoms

Symptoms of active tuberculosis include a cough that lasts three weeks or longer, coughing up blood,
chest pain, fever, night sweats, weight loss and tiredness.

## Treatment

Tuberculosis can be cured with medicine. Patients must take all of their TB medicine exactly as the
doctor or nurse prescribes and finish the whole course, even when they feel better.
"""

DIABETES = """# Eating and diabetes

## Blood glucose checks

Ask your doctor for an A1C test at least twice a year. The A1C number gives your average blood glucose
for the past 3 months. Before meals, blood glucose should be 70 to 130.

## Low blood glucose

If your blood glucose is below 70, take 3 or 4 glucose tablets or half a cup of fruit juice, then check
again after 15 minutes.
"""

UNRELATED = """# Printer maintenance for the front desk

## Paper jams

Open the rear tray, pull the jammed sheet out slowly with both hands and close the tray. Replace the
toner cartridge when the display shows a warning, and clean the rollers with a dry cloth every month.
"""


@pytest.fixture(scope="module")
def leaflets(tmp_path_factory):
    d = tmp_path_factory.mktemp("leaflets")
    (d / "tuberculosis.md").write_text(TB)
    (d / "diabetes.md").write_text(DIABETES)
    rag = RagMed(collection="gate", index_dir=tmp_path_factory.mktemp("gidx"))
    assert rag.ingest([d]).ok
    # a two-leaflet collection is calibrated on its own questions, as docs/trust.md advises for small
    # collections (none of these is asked below)
    rag.calibrate(["What causes tuberculosis?", "What are the symptoms of active TB?", "How is TB treated?",
                   "What A1C test does a diabetic need?", "What should I take when my blood glucose is low?"],
                  ["How do I renew my passport?", "What is the capital of Australia?", "How is a migraine treated?",
                   "What are the side effects of statins?", "How do I fix a flat bicycle tyre?"])
    return rag, tmp_path_factory.mktemp("extra")


def _plain(explanation: str) -> None:
    assert explanation and not re.search(r"\d", explanation), explanation  # no raw scores
    assert "abstain" not in explanation.lower() and "--no" not in explanation


def test_misspelt_question_is_answered(leaflets):
    rag, _ = leaflets
    d = rag.answerability("wat are the symtoms of tuberclosis")
    assert d.answerable and d.reason == "covered", d
    assert d.corrected.get("symtoms") and d.corrected.get("tuberclosis"), d.corrected


def test_lay_words_and_abbreviations_are_answered(leaflets):
    rag, _ = leaflets
    for q in ("hba1c how often?", "can tb be cured"):
        d = rag.answerability(q)
        assert d.answerable and d.reason == "covered", (q, d)


def test_short_query_is_answered(leaflets):
    rag, _ = leaflets
    d = rag.answerability("TB spread?")
    assert d.answerable and d.reason == "covered", d


def test_near_miss_asking_a_duration_the_text_does_not_give_is_refused(leaflets):
    rag, _ = leaflets
    d = rag.answerability("how many months does TB treatment take?")
    assert not d.answerable and d.reason == "no_answer_of_kind" and d.asked == "duration", d
    _plain(d.explanation)
    assert "how long" in d.explanation
    # the same kind of question is covered when the text states it
    ok = rag.answerability("how often should I get an A1C test?")
    assert ok.answerable and ok.asked == "frequency", ok


def test_french_question_gets_a_language_notice(leaflets):
    rag, _ = leaflets
    d = rag.answerability("Quels sont les symptômes de la tuberculose ?")
    assert not d.answerable and d.reason == "language" and d.language == "fr", d
    _plain(d.explanation)
    assert "French" in d.explanation and "English" in d.explanation
    from ragmed.pipeline import Retrieval

    r = Retrieval("Quels sont les symptômes de la tuberculose ?", [], d)
    assert rag.pipeline.gate_abstention(r).code == "language"
    assert rag.pipeline.refusal_text(r).startswith(d.explanation)  # not "not covered"
    assert asking.detect_language("TB spread?") is None


def test_off_topic_question_is_refused_as_not_covered(leaflets):
    rag, _ = leaflets
    d = rag.answerability("What is the dose of isotretinoin for acne?")
    assert not d.answerable and d.reason == "not_covered", d
    _plain(d.explanation)


def test_unrelated_document_does_not_move_the_score(leaflets):
    rag, extra = leaflets
    qs = ["wat are the symtoms of tuberclosis", "TB spread?", "hba1c how often?", "how many months does TB treatment take?",
          "What is the dose of isotretinoin for acne?", "How often should the rollers be cleaned?"]
    before = [rag.answerability(q).score for q in qs]
    path = extra / "printer.md"
    path.write_text(UNRELATED)
    assert rag.ingest([path]).ok
    try:
        after = [rag.answerability(q).score for q in qs[:-1]]
    finally:
        rag.remove([path])
    for q, a, b in zip(qs, before, after):
        assert abs(a - b) < 0.02, (q, a, b)


def test_calibration_of_other_features_is_refused(tmp_path):
    old = {"mean": [0.5] * 5, "scale": [0.2] * 5, "weights": [1.0] * 5, "bias": 0.0, "threshold": 0.5,
           "features": ["dense_top", "lexical_top", "coverage", "absent", "agreement"]}
    with pytest.raises(ValueError, match="ragmed calibrate"):
        gate.Calibration.from_dict(old)
    assert gate.stored(old) is gate.DEFAULT  # a stored record of other features: ignored with a warning, not used
    assert gate.Calibration.from_dict(gate.DEFAULT.to_dict()).weights == gate.DEFAULT.weights


def test_calibration_is_stored_with_the_collection_atomically(leaflets, monkeypatch):
    """store/collection.py keeps the fitted gate (ground/gate.py fits and reads it, no file I/O): a
    save that dies before its rename leaves the previous calibration whole and no temporary file."""
    import json
    import os
    from pathlib import Path

    rag, _ = leaflets
    path = Path(rag.index.calibration_location)
    assert path == Path(rag.index.dir) / "calibration.json" and path.is_file()
    before = path.read_text(encoding="utf-8")
    assert rag.index.read_calibration() == json.loads(before)

    def crash(*args, **kwargs):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with rag.index.write_lock(), pytest.raises(OSError, match="simulated crash"):
        rag.index.save_calibration({**json.loads(before), "threshold": 0.123})
    monkeypatch.undo()
    assert path.read_text(encoding="utf-8") == before
    assert sorted(p.name for p in path.parent.glob("calibration.json*")) == ["calibration.json"]
    source = Path(gate.__file__).read_text(encoding="utf-8")
    assert not re.search(r"\bopen\(|read_text|write_text|json\.dump|atomic_write", source)
