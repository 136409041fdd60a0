"""Data and scoring of the adversarial claims benchmark (benchmarks/adversarial_claims.py).

Sources of (id, sentence, passage):

- `gold_sources`: the CDC 2022 opioid gold statements (../shared/eval/guideline_gold_text), one per
  sentence of >= 8 words; its passage is the statement's region with the regions before and after it
  on the same page (about the size of a ragmed chunk). Split by region id.
- `pdf_sources`: sentences of other guideline PDFs (../shared/eval/guidelines, read with pypdf) that
  state something a distortion can change (a quantity, a modal, a negation, a direction, a
  population or a drug); the passage is the sentence with two sentences on each side on its page.
  At most `per_pdf` per file, chosen by a sha1 of the id. Split by "<pdf>:p<page>".

`score(cases, verdicts)` gives the false-support rate per distortion kind and the control recall.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..text import split_sentences
from .trust import gold_sentences, gold_statements

OTHER_PDFS = {  # file -> physical pages read (None: all)
    "cdc-2023-what-you-need-to-know-about-tb.pdf": None,
    "niddk-eating-and-diabetes.pdf": None,
    "who-emro-2019-healthy-diet.pdf": None,
    "who-2022-schistosomiasis-guideline.pdf": range(10, 80),
    "who-2023-malaria-guidelines.pdf": range(20, 110),
    "cdc-2016-infection-prevention-outpatient-settings.pdf": range(4, 30),
}


def gold_sources(gold_dir: Path) -> list[tuple[str, str, str, str]]:
    """(sentence id, split key, sentence, passage) of the CDC opioid gold statements."""
    gold = gold_statements(gold_dir)
    out = []
    for i, (gid, page, text) in enumerate(gold):
        window = [g[2] for g in gold[max(0, i - 1):i + 2] if g[1] == page]
        passage = " ".join(window)
        for sid, _, sent in gold_sentences([(gid, page, text)]):
            out.append((sid, gid, sent, passage))
    return out


_FURNITURE = re.compile(r"WHO guidelines for malaria - 16 October 2023 - World Health Organization \(WHO\) \d+ of \d+")
_REFERENCE = re.compile(r"\bet al\b|doi|https?:|www\.|\b(?:19|20)\d\d\s*[;:]|:\s*\d+[–-]\d+\.?$|Geneva:|Press\b")


def _sentences(text: str) -> list[str]:
    text = _FURNITURE.sub(" ", " ".join(text.replace("\u00ad", "").split()))
    text = re.sub(r"(\w)- (\w)", r"\1\2", text)
    return [text[s:e].strip() for s, e in split_sentences(text, 0, len(text))]


_DISTORTABLE = re.compile(r"\d|\b(?:should|must|may|not|no|never|avoid|more|less|higher|lower|increase|"
                          r"decrease|before|after|at least|adults?|children|pregnan\w*|only|all)\b", re.IGNORECASE)


def pdf_sources(pdf_dir: Path, per_pdf: int = 80) -> list[tuple[str, str, str, str]]:
    """(sentence id, split key, sentence, passage) from the guideline PDFs of `OTHER_PDFS`."""
    from pypdf import PdfReader

    out = []
    for name, pages in OTHER_PDFS.items():
        path = pdf_dir / name
        if not path.exists():
            continue
        reader = PdfReader(str(path))
        found = []
        for p in pages or range(len(reader.pages)):
            if p >= len(reader.pages):
                break
            sents = _sentences(reader.pages[p].extract_text() or "")
            for i, s in enumerate(sents):
                words = re.findall(r"[A-Za-z]+", s)
                if not 8 <= len(words) <= 45 or not _DISTORTABLE.search(s) or not s[:1].isupper():
                    continue
                if sum(len(w) for w in words) < 0.6 * len(s) or _REFERENCE.search(s):
                    continue  # tables, references, figure debris
                passage = " ".join(sents[max(0, i - 2):i + 3])
                found.append((f"{name}:p{p + 1}#{i}", f"{name}:p{p + 1}", s, passage))
        found.sort(key=lambda x: hashlib.sha1(("adv:" + x[0]).encode()).hexdigest())
        out.extend(found[:per_pdf])
    return out


def score(cases, supported: list[bool]) -> dict:
    """False support per distortion kind (both bases, and "@reworded" apart) and control recall."""
    from .distort import CONTROLS, KINDS

    counts: dict[str, list[int]] = {}
    for c, ok in zip(cases, supported):
        keys = [c.kind] + ([f"{c.kind}@reworded"] if c.id.endswith("@reworded") else [])
        for k in keys:
            counts.setdefault(k, [0, 0])
            counts[k][0] += ok
            counts[k][1] += 1
    false_support = {k: {"rate": round(counts[k][0] / counts[k][1], 4), "n": counts[k][1]}
                     for k in KINDS if k in counts}
    reworded = {k: {"rate": round(counts[k + "@reworded"][0] / counts[k + "@reworded"][1], 4),
                    "n": counts[k + "@reworded"][1]} for k in KINDS if k + "@reworded" in counts}
    controls = {k: {"recall": round(counts[k][0] / counts[k][1], 4), "n": counts[k][1]}
                for k in CONTROLS if k in counts}
    ctrl = [counts[k] for k in CONTROLS if k in counts]
    recall = round(sum(a for a, _ in ctrl) / max(1, sum(n for _, n in ctrl)), 4)
    return {"false_support": false_support, "false_support_in_reworded": reworded,
            "controls": controls, "control_recall": recall,
            "worst_kind": max(false_support.items(), key=lambda kv: kv[1]["rate"])[0] if false_support else None}
