"""OCR engines compared on the 8 guideline PDFs' pages rendered to images (issue 20, scope 2).

    nice -n 10 .venv/bin/python -m benchmarks.ocr_engines [--pages-per-pdf 2]

Truth: each sampled page's own text layer (pypdf, normalised as ingestion does, whitespace
collapsed). Each page is rendered with pypdfium2 at 200 and 300 dpi (grayscale) and read by
Tesseract (pytesseract) and RapidOCR (rapidocr_onnxruntime). Figures per engine and dpi:
- CER: character error rate, Levenshtein distance / truth length (rapidfuzz), over the
  whitespace-collapsed texts; reading order counts (a two-column page read in another order costs);
- order-free CER: the same on the sorted words of each side (reading order does not count);
- numbers kept: share of the truth's number tokens (e.g. "2.5", "300") found in the OCR text;
- pages/s on this machine (single process, after one warm-up page), install size on disk.
Pages: `--pages-per-pdf` per PDF with at least 400 characters of text, chosen by sha1(file:page)
(the first ones in that order whose first hex digit is 0-b: the dev split; c-f: test), so the
sample is fixed. Writes benchmarks/results/ocr_engines_<split>.json and .md.
Reading orders (`--orders`): "columns" (ragmed/ingest/reading_order.py) and "engine" (the
engine's own: Tesseract's blocks, paragraphs, lines), both from one OCR pass per page.
Page kinds (`KINDS`) were labelled by looking at each sampled page's render (before measuring):
"one column", "two columns" (prose or lists side by side), "table/form" (ruled cells).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import time
from pathlib import Path

from benchmarks._common import GUIDELINES, RESULTS, cpu_name, require


KINDS = {  # "file:page" (1-based) -> kind, labelled from the renders of the dev and test samples
    "cdc-2016-infection-prevention-outpatient-settings.pdf:39": "table/form",
    "cdc-2016-infection-prevention-outpatient-settings.pdf:26": "table/form",
    "cdc-2022-opioid-prescribing-guideline.pdf:65": "two columns",
    "cdc-2022-opioid-prescribing-guideline.pdf:41": "two columns",
    "cdc-2023-what-you-need-to-know-about-tb.pdf:1": "two columns",
    "niddk-eating-and-diabetes.pdf:7": "one column",
    "niddk-eating-and-diabetes.pdf:44": "table/form",
    "who-2016-ipc-core-components-guidelines.pdf:36": "two columns",
    "who-2016-ipc-core-components-guidelines.pdf:17": "table/form",
    "who-2022-schistosomiasis-guideline.pdf:63": "one column",
    "who-2022-schistosomiasis-guideline.pdf:32": "one column",
    "who-2023-malaria-guidelines.pdf:275": "one column",
    "who-2023-malaria-guidelines.pdf:25": "one column",
    "who-emro-2019-healthy-diet.pdf:4": "one column",
    "who-emro-2019-healthy-diet.pdf:13": "one column",
    # test split
    "cdc-2016-infection-prevention-outpatient-settings.pdf:8": "two columns",
    "cdc-2016-infection-prevention-outpatient-settings.pdf:36": "table/form",
    "cdc-2022-opioid-prescribing-guideline.pdf:27": "two columns",
    "cdc-2022-opioid-prescribing-guideline.pdf:3": "two columns",
    "cdc-2023-what-you-need-to-know-about-tb.pdf:2": "two columns",
    "niddk-eating-and-diabetes.pdf:35": "one column",
    "niddk-eating-and-diabetes.pdf:29": "one column",
    "who-2016-ipc-core-components-guidelines.pdf:26": "two columns",
    "who-2016-ipc-core-components-guidelines.pdf:53": "one column",
    "who-2022-schistosomiasis-guideline.pdf:38": "one column",
    "who-2022-schistosomiasis-guideline.pdf:109": "table/form",
    "who-2023-malaria-guidelines.pdf:153": "one column",
    "who-2023-malaria-guidelines.pdf:428": "one column",
    "who-emro-2019-healthy-diet.pdf:11": "one column",
}


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _numbers(text: str) -> list[str]:
    return re.findall(r"\d+(?:[.,]\d+)*", text)


def sample_pages(per_pdf: int, split: str) -> list[tuple[Path, int, str]]:
    from pypdf import PdfReader

    from ragmed.ingest.text import normalize

    want = "0123456789ab" if split == "dev" else "cdef"
    out = []
    for pdf in sorted(GUIDELINES.glob("*.pdf")):
        reader = PdfReader(str(pdf))
        order = sorted(range(len(reader.pages)), key=lambda i: hashlib.sha1(f"{pdf.name}:{i + 1}".encode()).hexdigest())
        got = 0
        for i in order:
            if hashlib.sha1(f"{pdf.name}:{i + 1}".encode()).hexdigest()[0] not in want:
                continue
            truth = _collapse(normalize(reader.pages[i].extract_text() or ""))
            if len(truth) >= 400:
                out.append((pdf, i, truth))
                got += 1
            if got >= per_pdf:
                break
    return out


def _size_mb(paths: list[str]) -> float:
    total = 0
    for p in paths:
        q = Path(p)
        if q.is_file():
            total += q.stat().st_size
        elif q.is_dir():
            total += sum(f.stat().st_size for f in q.rglob("*") if f.is_file())
    return round(total / 1e6, 1)


def install_sizes() -> dict[str, float]:
    import site

    sp = site.getsitepackages()[0]
    tess = [shutil.which("tesseract") or "", "/usr/share/tesseract-ocr"] + [
        str(p) for p in Path("/usr/lib/x86_64-linux-gnu").glob("lib*tesseract*")] + [
        str(p) for p in Path("/usr/lib/x86_64-linux-gnu").glob("liblept*")] + [f"{sp}/pytesseract"]
    rapid = [f"{sp}/rapidocr_onnxruntime", f"{sp}/cv2", f"{sp}/shapely", f"{sp}/pyclipper"]
    return {"tesseract": _size_mb(tess), "rapidocr": _size_mb(rapid)}


def _measure(got_text: str, truth_text: str) -> dict:
    from rapidfuzz.distance import Levenshtein

    from ragmed.ingest.text import normalize

    got, truth = _collapse(normalize(got_text)), truth_text
    want_n, have_n = _numbers(truth), set(_numbers(got))
    return {"chars": len(truth), "dist": Levenshtein.distance(got, truth),
            "dist_bag": Levenshtein.distance(" ".join(sorted(got.split())), " ".join(sorted(truth.split()))),
            "nums": len(want_n), "nums_kept": sum(n in have_n for n in want_n)}


def _summary(pages: list[dict]) -> dict:
    chars = sum(p["chars"] for p in pages)
    return {"pages": len(pages), "cer": round(sum(p["dist"] for p in pages) / chars, 4),
            "cer_order_free": round(sum(p["dist_bag"] for p in pages) / chars, 4),
            "numbers_kept": round(sum(p["nums_kept"] for p in pages) / max(1, sum(p["nums"] for p in pages)), 4)}


def write_md(result: dict) -> str:
    """The results' .md next to their .json (also `--report-only`: from the recorded .json)."""
    rows = result["engines"]
    md = [f"# OCR engines on rendered guideline pages ({result['split']} split)", "",
          f"Command: `{result['command']}`  ", f"CPU: {result['cpu']} (2 vCPUs shared with other jobs: pages/s are low and only comparable "
          "within one run); the text layer of each sampled page is the truth. Reading order \"columns\": "
          "ragmed/ingest/reading_order.py; \"engine\": the engine's own order; no order: rows of earlier runs "
          "(the engine's order).", "",
          "| engine | dpi | order | pages | CER | order-free CER | numbers kept | pages/s | mean confidence | options |",
          "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['engine']} | {r['dpi']} | {r.get('order', '-')} | {r['pages']} | {r['cer']:.2%} | "
                  f"{r['cer_order_free']:.2%} | {r['numbers_kept']:.1%} | {r['pages_per_s']} | {r['mean_confidence']} | "
                  f"`{r.get('command', '')}`{' (*)' if r.get('note') else ''} |")
    md += ["", "By page kind (`KINDS` in the script, labelled from the renders):", "",
           "| engine | dpi | order | kind | pages | CER | order-free CER | numbers kept |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        for kind, k in r.get("by_kind", {}).items():
            md.append(f"| {r['engine']} | {r['dpi']} | {r['order']} | {kind} | {k['pages']} | {k['cer']:.2%} | "
                      f"{k['cer_order_free']:.2%} | {k['numbers_kept']:.1%} |")
    by_page: dict[tuple, dict] = {}
    for p in result["pages"]:
        if p.get("order"):
            by_page.setdefault((p["engine"], p["dpi"], p["pdf"], p["page"]), {})[p["order"]] = p
    md += ["", "Per page (CER in the \"columns\" order / the engine's order; order-free CER):", "",
           "| engine | dpi | file | page | kind | CER columns | CER engine | order-free CER |", "|---|---|---|---|---|---|---|---|"]
    for (engine, dpi, pdf, page), o in by_page.items():
        any_o = next(iter(o.values()))
        cer = {k: f"{v['cer']:.2%}" for k, v in o.items()}
        md.append(f"| {engine} | {dpi} | {pdf} | {page} | {any_o.get('kind', '')} | {cer.get('columns', '-')} | "
                  f"{cer.get('engine', '-')} | {any_o['cer_order_free']:.2%} |")
    md += ["", "Install size on disk (MB): " + ", ".join(f"{k} {v}" for k, v in result["install_mb"].items())
           + " (Tesseract: binary, libraries, English data, pytesseract; RapidOCR: its wheel with models, "
             "OpenCV, shapely, pyclipper; ONNX Runtime is already a ragmed dependency).", ""]
    notes = [f"(*) {r['engine']}, {r['dpi']} dpi: {r['note']}." for r in rows if r.get("note")]
    md += notes + ([""] if notes else [])
    (RESULTS / f"ocr_engines_{result['split']}.md").write_text("\n".join(md))
    return "\n".join(md)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages-per-pdf", type=int, default=2)
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    ap.add_argument("--dpi", type=int, nargs="+", default=[200, 300])
    ap.add_argument("--engines", nargs="+", default=["tesseract", "rapidocr"])
    ap.add_argument("--orders", nargs="+", default=["columns", "engine"], help="reading orders (one OCR pass)")
    ap.add_argument("--max-pages", type=int, default=0, help="only the first N sampled pages (0: all)")
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md from the recorded .json")
    args = ap.parse_args()
    if args.report_only:
        print(write_md(json.loads((RESULTS / f"ocr_engines_{args.split}.json").read_text())))
        return 0
    require(GUIDELINES)
    from ragmed.ingest import ocr

    pages = sample_pages(args.pages_per_pdf, args.split)
    if args.max_pages:
        pages = pages[: args.max_pages]
    engines = [e for e in args.engines if ocr.available(e) == e]
    rows, per_page = [], []
    for engine in engines:
        for dpi in args.dpi:
            ocr.read_words(ocr.render_pdf_page(pages[0][0], pages[0][1], dpi), engine)  # warm-up (model load)
            ocr_s, measured = 0.0, {o: [] for o in args.orders}
            for pdf, i, truth in pages:
                image = ocr.render_pdf_page(pdf, i, dpi)
                t0 = time.perf_counter()
                read = ocr.read_words(image, engine)
                ocr_s += time.perf_counter() - t0
                for order in args.orders:
                    page = ocr.compose(read, order)
                    m = _measure(page.text, truth) | {"kind": KINDS.get(f"{pdf.name}:{i + 1}", "unlabelled"),
                                                       "confidence": page.confidence}
                    measured[order].append(m)
                    per_page.append({"engine": engine, "dpi": dpi, "order": order, "pdf": pdf.name, "page": i + 1,
                                     "kind": m["kind"], "cer": round(m["dist"] / m["chars"], 4),
                                     "cer_order_free": round(m["dist_bag"] / m["chars"], 4),
                                     "confidence": round(page.confidence, 3)})
            for order, ms in measured.items():
                kinds = sorted({m["kind"] for m in ms})
                rows.append({"engine": page.engine, "dpi": dpi, "order": order, "command": " ".join(sys.argv[1:]),
                             **_summary(ms), "pages_per_s": round(len(pages) / ocr_s, 3),
                             "mean_confidence": round(sum(m["confidence"] for m in ms) / len(ms), 3),
                             "by_kind": {k: _summary([m for m in ms if m["kind"] == k]) for k in kinds}})
                print({k: v for k, v in rows[-1].items() if k != "by_kind"}, file=sys.stderr)
    sizes = install_sizes()
    name = f"ocr_engines_{args.split}"
    old = RESULTS / f"{name}.json"
    if old.exists():  # runs of other engines/dpi/orders (each row keeps its own command line) are kept
        prev = json.loads(old.read_text())
        done = {(r["engine"].split()[0], r["dpi"], r["order"]) for r in rows}
        # a row of an earlier run without "order" (the engine's order, before reading_order.py) is
        # superseded by this run's rows of the same engine and dpi
        done |= {(e, dpi, None) for e, dpi, _ in done}
        rows = [r for r in prev["engines"] if (r["engine"].split()[0], r["dpi"], r.get("order")) not in done] + rows
        per_page = [p for p in prev["pages"] if (p["engine"], p["dpi"], p.get("order")) not in done] + per_page
    result = {"command": "nice -n 10 python -m benchmarks.ocr_engines [options per row: `command`]",
              "cpu": cpu_name(), "split": args.split, "engines": rows, "install_mb": sizes, "pages": per_page}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1))
    print(write_md(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
