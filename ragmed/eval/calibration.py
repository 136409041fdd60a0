"""`ragmed calibrate`: fit the abstention gate from two question files and compare it with the gate
the collection had before.

`read_questions` reads a question file (one question per line, or JSONL with a "question" field;
blank lines and `#` comments skipped). `calibrate_files` fits the gate with `RagMed.calibrate`
(ground/gate.py) and scores the same questions with the previous calibration, so the caller can
show before/after abstention rates. Both figures are on the questions the gate was fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..files import read_texts

MIN_QUESTIONS = 3  # per file: fewer cannot place a threshold between the two groups


def read_questions(path: Path) -> list[str]:
    """The questions of a file: one per line, or JSONL lines with a "question" field.

    Raises `InputError` (naming file and line) for invalid JSON, a JSON line without "question",
    or fewer than `MIN_QUESTIONS` questions."""
    out = read_texts(path, "question", comments=True)
    if len(out) < MIN_QUESTIONS:
        raise InputError(f"{path} holds {len(out)} question(s); calibration needs at least "
                         f"{MIN_QUESTIONS} of each kind.")
    return out


@dataclass
class CalibrationRun:
    """The outcome of one `calibrate_files` call.

    `calibration`: the fitted `Calibration` (its `fitted_on["metrics"]` are the new gate's rates);
    `previous_source` / `previous`: the gate the collection had before and its `GateMetrics` on the
    same questions; `stored`: whether the fit was saved with the collection, at `path`."""

    collection: str
    answerable: int
    unanswerable: int
    calibration: Any
    previous_source: str
    previous: Any
    stored: bool
    path: str

    @property
    def metrics(self) -> dict:
        return self.calibration.fitted_on["metrics"]

    def to_dict(self) -> dict:
        return {"calibration": self.calibration.to_dict(),
                "previous": {"source": self.previous_source, **self.previous.to_dict()},
                "stored": self.stored, "path": self.path}


def calibrate_files(rag, answerable: Path, unanswerable: Path, save: bool = True) -> CalibrationRun:
    """Fit `rag`'s collection gate on the two question files; store it unless `save` is False.

    `rag` is a `RagMed`. Only retrieval runs (no model)."""
    from ..ground import gate

    pos, neg = read_questions(answerable), read_questions(unanswerable)
    before = rag.calibration
    cal = rag.calibrate(pos, neg, save=save)
    old = gate.metrics([before.score(x) for x in rag.gate_features(pos)],
                       [before.score(x) for x in rag.gate_features(neg)], before.threshold)
    return CalibrationRun(collection=rag.index.name, answerable=len(pos), unanswerable=len(neg),
                          calibration=cal, previous_source=before.source, previous=old, stored=save,
                          path=rag.index.calibration_location)
