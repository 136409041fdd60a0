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
sample is fixed. Writes benchmarks/results/ocr_engines.json and .md.
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages-per-pdf", type=int, default=2)
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    ap.add_argument("--dpi", type=int, nargs="+", default=[200, 300])
    ap.add_argument("--engines", nargs="+", default=["tesseract", "rapidocr"])
    ap.add_argument("--max-pages", type=int, default=0, help="only the first N sampled pages (0: all)")
    args = ap.parse_args()
    require(GUIDELINES)
    from rapidfuzz.distance import Levenshtein

    from ragmed.ingest import ocr
    from ragmed.ingest.text import normalize

    pages = sample_pages(args.pages_per_pdf, args.split)
    if args.max_pages:
        pages = pages[: args.max_pages]
    engines = [e for e in args.engines if ocr.available(e) == e]
    rows, per_page = [], []
    for engine in engines:
        for dpi in args.dpi:
            ocr.recognise(ocr.render_pdf_page(pages[0][0], pages[0][1], dpi), engine)  # warm-up (model load)
            dist = dist_bag = chars = nums = nums_kept = 0
            ocr_s = 0.0
            confs = []
            for pdf, i, truth in pages:
                image = ocr.render_pdf_page(pdf, i, dpi)
                t0 = time.perf_counter()
                page = ocr.recognise(image, engine)
                ocr_s += time.perf_counter() - t0
                got = _collapse(normalize(page.text))
                d = Levenshtein.distance(got, truth)
                db = Levenshtein.distance(" ".join(sorted(got.split())), " ".join(sorted(truth.split())))
                want_n = _numbers(truth)
                have_n = set(_numbers(got))
                dist, dist_bag, chars = dist + d, dist_bag + db, chars + len(truth)
                nums, nums_kept = nums + len(want_n), nums_kept + sum(n in have_n for n in want_n)
                confs.append(page.confidence)
                per_page.append({"engine": engine, "dpi": dpi, "pdf": pdf.name, "page": i + 1,
                                 "cer": round(d / len(truth), 4), "cer_order_free": round(db / len(truth), 4),
                                 "confidence": round(page.confidence, 3)})
            rows.append({"engine": page.engine, "dpi": dpi, "pages": len(pages), "command": " ".join(sys.argv[1:]),
                         "cer": round(dist / chars, 4), "cer_order_free": round(dist_bag / chars, 4),
                         "numbers_kept": round(nums_kept / max(1, nums), 4),
                         "pages_per_s": round(len(pages) / ocr_s, 3),
                         "mean_confidence": round(sum(confs) / len(confs), 3)})
            print(rows[-1], file=sys.stderr)
    sizes = install_sizes()
    name = f"ocr_engines_{args.split}"
    old = RESULTS / f"{name}.json"
    if old.exists():  # runs of other engines/dpi (each row keeps its own command line) are kept
        prev = json.loads(old.read_text())
        done = {(r["engine"].split()[0], r["dpi"]) for r in rows}
        rows = [r for r in prev["engines"] if (r["engine"].split()[0], r["dpi"]) not in done] + rows
        per_page = [p for p in prev["pages"] if (p["engine"], p["dpi"]) not in done] + per_page
    result = {"command": "nice -n 10 python -m benchmarks.ocr_engines [options per row: `command`]",
              "cpu": cpu_name(), "split": args.split, "engines": rows, "install_mb": sizes, "pages": per_page}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1))
    md = [f"# OCR engines on rendered guideline pages ({args.split} split)", "",
          f"Command: `{result['command']}`  ", f"CPU: {result['cpu']} (2 vCPUs shared with other jobs: pages/s are low and only comparable "
          "within one run); the text layer of each sampled page is the truth.", "",
          "| engine | dpi | pages | CER | order-free CER | numbers kept | pages/s | mean confidence | options |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['engine']} | {r['dpi']} | {r['pages']} | {r['cer']:.2%} | {r['cer_order_free']:.2%} | "
                  f"{r['numbers_kept']:.1%} | {r['pages_per_s']} | {r['mean_confidence']} | `{r.get('command', '')}` |")
    md += ["", "Install size on disk (MB): " + ", ".join(f"{k} {v}" for k, v in sizes.items())
           + " (Tesseract: binary, libraries, English data, pytesseract; RapidOCR: its wheel with models, "
             "OpenCV, shapely, pyclipper; ONNX Runtime is already a ragmed dependency).", ""]
    (RESULTS / f"{name}.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
