"""Where OCR's character errors come from, on the pages of benchmarks/ocr_engines.py (issue 20, scope 2).

    nice -n 10 python -m benchmarks.ocr_errors --split dev|test

Same pages, render (pypdfium2, `ocr.DPI`), engine (`ocr.ENGINE`, `ocr.recognise`, reading order
"columns") and truth (the page's text layer, `normalize`d, whitespace collapsed) as
benchmarks/ocr_engines.py. Two things are measured per page and per page kind (`KINDS`):

1. CER as ocr_engines.py reports it, and CER after a normalisation applied to BOTH sides (OCR text
   and truth alike): dashes (‐ ‑ ‒ – — ― −) written "-", curly quotes and primes written straight,
   bullet glyphs (• ● ▪ ■ ◦ › ‣ ∙ ·) removed, runs of 2+ underscores (drawn fill-in lines) removed.
   These differ in glyph only, not in words or numbers a search or a reader needs.
2. An attribution of the raw edit distance: the two texts are aligned word by word (difflib) and
   each differing stretch's Levenshtein distance is put in the first category that fits:
   - "order: page furniture": a stretch of 12+ characters found verbatim elsewhere in the other
     text, or 60% of whose words stand in the other text's differing stretches elsewhere, at the
     start or end (`EDGE` words) of either text (running headers/footers the text layer stores
     at the other end of the page);
   - "order: blocks/columns": the same, elsewhere on the page;
   - "truth: drawn rules": the truth side is only underscores (fill-in lines drawn as text);
   - "word spacing": equal once spaces are removed (text layer's "G oyal", "V ol.", OCR's "69 1 1a5");
   - "dashes and quotes", "bullets and list marks": equal after that part of the normalisation
     above (bullets: also OCR's single-character misreads of a bullet, e.g. "e", "‘", "o");
   - "numbers": a digit on either side; "OCR only": text without counterpart in the text layer
     (figures' text, check boxes, noise); "text layer only": text OCR did not give (dropped
     bullets' neighbours, hidden or faint text); "letters": the remaining misread words.
   Shares are of the summed stretch distances (close to, not exactly, the page's edit distance).
Writes benchmarks/results/ocr_errors_<split>.{json,md}.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys

from benchmarks._common import GUIDELINES, RESULTS, cpu_name, require
from benchmarks.ocr_engines import KINDS, _collapse, sample_pages

DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−"), "-")
QUOTES = {**dict.fromkeys(map(ord, "‘’‚‛′`"), "'"), **dict.fromkeys(map(ord, "“”„‟″"), '"')}
BULLETS = "•●▪■◦›‣∙·"
BULLET_MISREADS = {"e", "o", "O", "‘", "'", "«", "»", "*", "+", "°", "©", "@", "¢", "-", "=", "~"}
EDGE = 20  # words: a moved stretch this near the start or end of either text is page furniture
CATEGORIES = ("order: page furniture", "order: blocks/columns", "truth: drawn rules", "word spacing",
              "dashes and quotes", "bullets and list marks", "numbers", "OCR only", "text layer only", "letters")


def symmetric(text: str) -> str:
    """The normalisation applied to both sides for the second CER (module docstring, 1)."""
    text = text.translate(DASHES).translate(QUOTES)
    text = re.sub(f"[{BULLETS}]", " ", text)
    return _collapse(re.sub(r"_{2,}", " ", text))


def _no_bullets(words: list[str]) -> str:
    return " ".join(w for w in (re.sub(f"[{BULLETS}]", "", w) for w in words) if w and w not in BULLET_MISREADS)


def attribute(got: str, truth: str) -> dict[str, int]:
    """{category: summed Levenshtein distance of the differing stretches} (module docstring, 2)."""
    from rapidfuzz.distance import Levenshtein

    tw, gw = truth.split(), got.split()
    out = dict.fromkeys(CATEGORIES, 0)
    ops = [o for o in difflib.SequenceMatcher(None, tw, gw, autojunk=False).get_opcodes() if o[0] != "equal"]

    def moved(words: list[str], side: int, k: int) -> bool:
        # most of the stretch's words stand in the other side's differing stretches elsewhere
        other = {w for j, o in enumerate(ops) if j != k for w in (gw[o[3]:o[4]] if side == 0 else tw[o[1]:o[2]])}
        return len(" ".join(words)) >= 12 and sum(w in other for w in words) >= 0.6 * len(words)

    for k, (op, a, b, c, e) in enumerate(ops):
        t, g = " ".join(tw[a:b]), " ".join(gw[c:e])
        cost = Levenshtein.distance(t, g) + (1 if not t or not g else 0)  # + the separating space
        edge = a <= EDGE or b >= len(tw) - EDGE or c <= EDGE or e >= len(gw) - EDGE
        if (len(t) >= 12 and t in got) or (len(g) >= 12 and g in truth) or moved(tw[a:b], 0, k) or moved(gw[c:e], 1, k):
            cat = "order: page furniture" if edge else "order: blocks/columns"
        elif t and not t.replace("_", "").replace(" ", ""):
            cat = "truth: drawn rules"
        elif t.replace(" ", "") == g.replace(" ", ""):
            cat = "word spacing"
        elif t.translate(DASHES).translate(QUOTES) == g.translate(DASHES).translate(QUOTES):
            cat = "dashes and quotes"
        elif _no_bullets(tw[a:b]) == _no_bullets(gw[c:e]):
            cat = "bullets and list marks"
        elif re.search(r"\d", t + g):
            cat = "numbers"
        elif not t:
            cat = "OCR only"
        elif not g:
            cat = "text layer only"
        else:
            cat = "letters"
        out[cat] += cost
    return out


ORDER_AND_TRUTH = ("order: page furniture", "order: blocks/columns", "truth: drawn rules", "word spacing")


def write_md(result: dict) -> str:
    """The results' .md next to their .json (also `--report-only`: from the recorded .json)."""
    summary, pages = result["summary"], result["pages"]
    md = [f"# Where OCR's character errors come from ({result['split']} split)", "",
          f"Command: `{result['command']}`  ",
          f"Engine {result['engine']} at {result['dpi']} dpi, reading order \"columns\"; truth: each page's text layer "
          "(benchmarks/ocr_engines.py's pages). \"CER sym.\": both sides normalised alike (dashes as \"-\", "
          "straight quotes, bullet glyphs and runs of underscores removed; see the script's docstring). "
          "\"recognition\": the CER left once the stretches attributed to order (page furniture, blocks), "
          "to the text layer's drawn rules and to word spacing are set aside (an estimate from the attribution).", "",
          "| pages | n | CER | CER sym. | recognition | pages ≤ 2% | pages ≤ 2% sym. |", "|---|---|---|---|---|---|---|"]
    for k, s in summary.items():
        rec = sum(v for c, v in s["cer_by_cause"].items() if c not in ORDER_AND_TRUTH)
        md.append(f"| {k} | {s['pages']} | {s['cer']:.2%} | {s['cer_symmetric']:.2%} | {rec:.2%} | "
                  f"{s['pages_cer_le_2pct']} | {s['pages_cer_symmetric_le_2pct']} |")
    md += ["", "Attribution of the raw CER (percentage points of CER per cause; word-level alignment):", "",
           "| cause | " + " | ".join(summary) + " |", "|---|" + "---|" * len(summary)]
    for c in CATEGORIES:
        md.append(f"| {c} | " + " | ".join(f"{summary[k]['cer_by_cause'][c]:.2%}" for k in summary) + " |")
    md += ["", "Per page:", "", "| file | page | kind | CER | CER sym. | largest cause |", "|---|---|---|---|---|---|"]
    for p in pages:
        top = max(p["causes"], key=p["causes"].get)
        md.append(f"| {p['pdf']} | {p['page']} | {p['kind']} | {p['dist'] / p['chars']:.2%} | "
                  f"{p['dist_sym'] / p['chars_sym']:.2%} | {top} ({p['causes'][top] / p['chars']:.2%}) |")
    (RESULTS / f"ocr_errors_{result['split']}.md").write_text("\n".join(md) + "\n")
    return "\n".join(md)


def compare_configs(split: str, per_pdf: int, configs: list[str]) -> int:
    """CER (raw and symmetric) per page kind for each Tesseract config (`ocr.TESSERACT_CONFIG`),
    reading order "columns"; writes benchmarks/results/ocr_tesseract_configs_<split>.{json,md}."""
    require(GUIDELINES)
    from rapidfuzz.distance import Levenshtein

    from ragmed.ingest import ocr
    from ragmed.ingest.text import normalize

    if ocr.available() != "tesseract":
        sys.exit("skipped: Tesseract is not installed")
    pages = [(pdf, i, truth, ocr.render_pdf_page(pdf, i)) for pdf, i, truth in sample_pages(per_pdf, split)]
    rows = []
    for config in configs:
        ocr.TESSERACT_CONFIG = config
        ms = []
        for pdf, i, truth, image in pages:
            got = _collapse(normalize(ocr.recognise(image).text))
            ms.append({"kind": KINDS.get(f"{pdf.name}:{i + 1}", "unlabelled"), "chars": len(truth),
                       "dist": Levenshtein.distance(got, truth), "chars_sym": len(symmetric(truth)),
                       "dist_sym": Levenshtein.distance(symmetric(got), symmetric(truth))})
        for kind in ["all"] + sorted({m["kind"] for m in ms}):
            sel = [m for m in ms if kind in ("all", m["kind"])]
            rows.append({"config": config, "kind": kind, "pages": len(sel),
                         "cer": round(sum(m["dist"] for m in sel) / sum(m["chars"] for m in sel), 4),
                         "cer_symmetric": round(sum(m["dist_sym"] for m in sel) / sum(m["chars_sym"] for m in sel), 4)})
        print(rows[-len({m["kind"] for m in ms}) - 1], file=sys.stderr)
    command = f"nice -n 10 python -m benchmarks.ocr_errors --split {split} --compare-configs " + " ".join(f'"{c}"' for c in configs)
    result = {"command": command, "cpu": cpu_name(), "dpi": ocr.DPI, "split": split, "rows": rows}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ocr_tesseract_configs_{split}.json").write_text(json.dumps(result, indent=1))
    md = [f"# Tesseract configurations on rendered guideline pages ({split} split)", "", f"Command: `{command}`  ",
          f"{ocr.DPI} dpi, reading order \"columns\" (ragmed/ingest/reading_order.py uses the word boxes, so the "
          "page segmentation mode changes what Tesseract reads, not the order); truth: the text layer; "
          "\"CER sym.\" as in ocr_errors_<split>.md.", "",
          "| config | pages | n | CER | CER sym. |", "|---|---|---|---|---|"]
    md += [f"| `{r['config']}` | {r['kind']} | {r['pages']} | {r['cer']:.2%} | {r['cer_symmetric']:.2%} |" for r in rows]
    (RESULTS / f"ocr_tesseract_configs_{split}.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    ap.add_argument("--pages-per-pdf", type=int, default=2)
    ap.add_argument("--compare-configs", nargs="+", metavar="CONFIG",
                    help='Tesseract configs to compare (e.g. "--psm 3" "--psm 6"): CER per page kind only')
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md from the recorded .json")
    args = ap.parse_args()
    if args.compare_configs:
        return compare_configs(args.split, args.pages_per_pdf, args.compare_configs)
    if args.report_only:
        print(write_md(json.loads((RESULTS / f"ocr_errors_{args.split}.json").read_text())))
        return 0
    require(GUIDELINES)
    from rapidfuzz.distance import Levenshtein

    from ragmed.ingest import ocr
    from ragmed.ingest.text import normalize

    if ocr.available() is None:
        sys.exit(f"skipped: {ocr.missing_message()}")
    pages = []
    for pdf, i, truth in sample_pages(args.pages_per_pdf, args.split):
        page = ocr.recognise(ocr.render_pdf_page(pdf, i))
        got = _collapse(normalize(page.text))
        pages.append({"pdf": pdf.name, "page": i + 1, "kind": KINDS.get(f"{pdf.name}:{i + 1}", "unlabelled"),
                      "chars": len(truth), "dist": Levenshtein.distance(got, truth),
                      "chars_sym": len(symmetric(truth)), "dist_sym": Levenshtein.distance(symmetric(got), symmetric(truth)),
                      "causes": attribute(got, truth)})
        print(pages[-1]["pdf"], pages[-1]["page"], f"{pages[-1]['dist'] / pages[-1]['chars']:.2%}", file=sys.stderr)

    def summary(ps: list[dict]) -> dict:
        causes = {c: sum(p["causes"][c] for p in ps) for c in CATEGORIES}
        total = max(1, sum(causes.values()))
        return {"pages": len(ps), "cer": round(sum(p["dist"] for p in ps) / sum(p["chars"] for p in ps), 4),
                "cer_symmetric": round(sum(p["dist_sym"] for p in ps) / sum(p["chars_sym"] for p in ps), 4),
                "pages_cer_le_2pct": sum(p["dist"] / p["chars"] <= 0.02 for p in ps),
                "pages_cer_symmetric_le_2pct": sum(p["dist_sym"] / p["chars_sym"] <= 0.02 for p in ps),
                "causes_share": {c: round(v / total, 4) for c, v in causes.items()},
                "cer_by_cause": {c: round(v / sum(p["chars"] for p in ps), 4) for c, v in causes.items()}}

    kinds = sorted({p["kind"] for p in pages})
    groups = {"all": pages, **{k: [p for p in pages if p["kind"] == k] for k in kinds}}
    result = {"command": f"nice -n 10 python -m benchmarks.ocr_errors --split {args.split}", "cpu": cpu_name(),
              "engine": ocr.ENGINE, "dpi": ocr.DPI, "split": args.split,
              "summary": {k: summary(v) for k, v in groups.items()}, "pages": pages}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ocr_errors_{args.split}.json").write_text(json.dumps(result, indent=1))
    print(write_md(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
