"""Gold statements findable after OCR (issue 20, scope 2: "the page's gold statements findable by search").

    nice -n 10 python -m benchmarks.ocr_gold_search [--pages 13-40]

The CDC 2022 opioid guideline's page-located gold statements (../shared/eval/guideline_gold_text,
`ragmed.eval.trust.gold_statements`: region id, physical page, verbatim text). A copy of the PDF is
made with pypdf in which the pages of `--pages` are kept and every other page is blank (so page
numbers stay the physical ones and nothing outside the range competes). It is ingested twice into
fresh collections (a temporary folder, the default embedder and settings):
- "text layer": `ingest(ocr="off")`, the PDF's own text;
- "ocr": `ingest(ocr="force")`, each page rendered to an image (pypdfium2, `ocr.DPI`) and read by
  the OCR engine (ragmed/ingest/ocr.py), replacing the text layer.
For each gold statement on a kept page, `RagMed.search(statement text, k=3)` (the default search
mode) is asked; hit@3 = the share of statements for which one of the 3 passages covers the
statement's page (page_start <= page <= page_end). Also hit@1. Split by sha1 of the statement id
(first hex digit 0-b dev, c-f test; ragmed.eval.beir.split_of). Writes
benchmarks/results/ocr_gold_search.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import GOLD, GUIDELINES, RESULTS, cpu_name, require

PDF = GUIDELINES / "cdc-2022-opioid-prescribing-guideline.pdf"


def _pages(spec: str) -> list[int]:
    a, _, b = spec.partition("-")
    return list(range(int(a), int(b or a) + 1))


def subset_pdf(keep: list[int], out: Path) -> Path:
    """PDF whose pages in `keep` (1-based) are the guideline's and the others up to max(keep) blank."""
    from pypdf import PdfReader, PdfWriter

    reader, writer = PdfReader(str(PDF)), PdfWriter()
    for i, page in enumerate(reader.pages[: max(keep)], 1):  # pages after the last kept one: left out
        if i in keep:
            writer.add_page(page)
        else:
            box = page.mediabox
            writer.add_blank_page(width=float(box.width), height=float(box.height))
    with open(out, "wb") as f:
        writer.write(f)
    return out


def measure(rag, gold: list[tuple[str, int, str]]) -> dict:
    from ragmed.eval.beir import split_of

    rows = []
    for gid, page, text in gold:
        found = rag.search(text, k=3)
        covers = [p.page_start <= page <= p.page_end for p in found]
        rows.append({"id": gid, "page": page, "split": split_of(gid), "hit1": bool(covers[:1] and covers[0]),
                     "hit3": any(covers)})
    out = {}
    for split in ("dev", "test"):
        rs = [r for r in rows if r["split"] == split]
        out[split] = {"statements": len(rs), "hit@1": round(sum(r["hit1"] for r in rs) / max(1, len(rs)), 4),
                      "hit@3": round(sum(r["hit3"] for r in rs) / max(1, len(rs)), 4)}
    out["missed"] = [r["id"] for r in rows if not r["hit3"]]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", default="13-40", help="physical pages kept, e.g. 13-40")
    args = ap.parse_args()
    require(GOLD, PDF)
    from ragmed import RagMed
    from ragmed.eval.trust import gold_statements
    from ragmed.ingest import ocr

    if ocr.available() is None:
        sys.exit(f"skipped: {ocr.missing_message()}")
    keep = _pages(args.pages)
    gold = [g for g in gold_statements(GOLD) if g[1] in keep]
    result = {"command": f"nice -n 10 python -m benchmarks.ocr_gold_search {' '.join(sys.argv[1:])}".strip(),
              "cpu": cpu_name(), "pages": args.pages, "engine": ocr.ENGINE, "dpi": ocr.DPI, "modes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        pdf = subset_pdf(keep, Path(tmp) / PDF.name)
        for mode, how in (("text layer", "off"), ("ocr", "force")):
            # default settings, the per-document time limit included: it holds per OCR'd page
            # (ocr.on_page; before, this 40-page forced OCR failed at the 120 s default)
            rag = RagMed(collection=f"gold-{how}", index_dir=Path(tmp) / how)
            t0 = time.perf_counter()
            report = rag.ingest([pdf], ocr=how)
            if not report.ok:
                sys.exit(f"ingest failed: {[d.to_dict() for d in report.failed]}")
            ingest_s = time.perf_counter() - t0
            result["modes"][mode] = measure(rag, gold) | {"ingest_s": round(ingest_s, 1)}
            print(mode, {k: v for k, v in result["modes"][mode].items() if k != "missed"}, file=sys.stderr)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ocr_gold_search.json").write_text(json.dumps(result, indent=1))
    md = ["# Gold statements findable after OCR (CDC 2022 opioid guideline)", "",
          f"Command: `{result['command']}`  ",
          f"CPU: {result['cpu']} (2 vCPUs shared). Pages kept: {args.pages} (the others blank); "
          f"OCR: {result['engine']} at {result['dpi']} dpi, forced on every page (`ingest(ocr=\"force\")`), default settings (the per-document time limit "
          "holds per OCR'd page). "
          "hit@k: share of the gold statements on those pages for which one of the k passages that "
          "`search(statement text, k=3)` returns covers the statement's physical page. The collection "
          "holds only this PDF's kept pages, so the figures compare the two texts, not the full corpus.", "",
          "| text | split | statements | hit@1 | hit@3 | ingest s |", "|---|---|---|---|---|---|"]
    for mode, r in result["modes"].items():
        for split in ("dev", "test"):
            s = r[split]
            md.append(f"| {mode} | {split} | {s['statements']} | {s['hit@1']:.1%} | {s['hit@3']:.1%} | {r['ingest_s']} |")
    md += ["", "Missed at 3 (statement ids): " + "; ".join(f"{m}: {', '.join(r['missed']) or 'none'}"
                                                       for m, r in result["modes"].items()), ""]
    (RESULTS / "ocr_gold_search.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
