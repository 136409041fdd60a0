"""Table QA: one question per row of dosing tables; is the right row in the top 3, numbers intact?

    python -m benchmarks.table_qa [--base REV]          (make bench-table-qa)

Collection: three generated multi-page weight-band charts (tests/support/fidelity_docs.py:
paracetamol 15 mg/kg 5-40 kg, ibuprofen 10 mg/kg 6-45 kg, amoxicillin 25 mg/kg 4-30 kg; running
header, "Page N of M" footer), the bundled sample protocol, and pages 166-174 of the WHO 2023
malaria guideline (../shared/eval; copied into a temporary PDF with pypdf), whose pages 168-170
hold five weight-band ACT dosing tables (24 rows; two on a two-column page).
Question per row: "What is the <drug> dose for a child weighing <w> kg?" (generated) and "What is
the dose of <drug> for a body weight of <band> kg?" (real).
A row counts as found when one of the 3 best passages (`RagMed.search`, default hybrid mode) holds
the row with its numbers intact on one line (cell separators read as spaces) and is cited with the
row's page. Run with the working tree ("after") and `--base` ("before", `git archive`), each in its
own process and fresh index. Writes benchmarks/results/table_qa.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import GUIDELINES, RESULTS, ROOT, cpu_name

from tests.support import fidelity_docs as F

from benchmarks.fidelity import BASE  # noqa: E402

MALARIA = GUIDELINES / "who-2023-malaria-guidelines.pdf"
MALARIA_PAGES = range(165, 174)  # 0-based: physical pages 166-174; the table is on page 170
# (drug as asked, page, band, dose) as printed in the guideline's weight-band tables, pages 168-170
MALARIA_ROWS = [("artemether + lumefantrine", 168, b, d) for b, d in (
                    ("5 to < 15", "20 + 120"), ("15 to < 25", "40 + 240"), ("25 to < 35", "60 + 360"), ("≥ 35", "80 + 480"))]
MALARIA_ROWS += [("artesunate + amodiaquine", 168, b, d) for b, d in (
                    ("4.5 to < 9", "25 + 67.5"), ("9 to < 18", "50 + 135"), ("18 to < 36", "100 + 270"), ("≥ 36", "200 + 540"))]
MALARIA_ROWS += [("artesunate + mefloquine", 169, b, d) for b, d in (
                    ("5 to < 9", "25 + 55"), ("9 to < 18", "50 + 110"), ("18 to < 30", "100 + 220"), ("≥ 30", "200 + 440"))]
MALARIA_ROWS += [("artesunate + sulfadoxine-pyrimethamine", 169, b, d) for b, d in (
                    ("5 to < 10", "25 mg 250 / 12.5"), ("10 to < 25", "50 mg 500 / 25"), ("25 to < 50", "100 mg 1000 / 50"),
                    ("≥ 50", "200 mg 1500 / 75"))]
MALARIA_ROWS += [("dihydroartemisinin + piperaquine", 170, b, d) for b, d in (
                    ("5 to < 8", "20 + 160"), ("8 to < 11", "30 + 240"), ("11 to < 17", "40 + 320"), ("17 to < 25", "60 + 480"),
                    ("25 to < 36", "80 + 640"), ("36 to < 60", "120 + 960"), ("60 < 80", "160 + 1280"), (">80", "200 + 1600"))]
CHARTS = [("paracetamol", 15, 5, 40, 12), ("ibuprofen", 10, 6, 45, 14), ("amoxicillin", 25, 4, 30, 10)]

_WORKER = r"""
import json, sys
from ragmed import RagMed
files, questions, index = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
rag = RagMed(collection="tables", index_dir=index)
report = rag.ingest(files)
assert report.ok, report.to_dict()
out = []
for q in questions:
    out.append([{"text": p.text, "page": p.page_start, "page_end": p.page_end, "source": p.source}
                for p in rag.search(q, k=3)])
print(json.dumps(out))
"""


def flat_lines(text: str) -> list[str]:
    return [re.sub(r"\s+", " ", ln.replace(" | ", " ")).strip() for ln in text.split("\n")]


def build(tmp: Path) -> tuple[list[str], list[dict]]:
    files, cases = [], []
    for drug, per_kg, first, last, per_page in CHARTS:
        truth = F.dose_table(tmp / f"{drug}-chart.pdf", first, last, per_page, drug, per_kg)
        files.append(str(truth.path))
        for row, page in truth.pages.items():
            w = row.split()[0]
            cases.append({"kind": "generated", "q": f"What is the {drug} dose for a child weighing {w} kg?",
                          "row": row, "page": page, "source": str(truth.path)})
    if MALARIA.exists():
        from pypdf import PdfReader, PdfWriter

        reader, writer = PdfReader(str(MALARIA)), PdfWriter()
        for i in MALARIA_PAGES:
            writer.add_page(reader.pages[i])
        path = tmp / "who-malaria-pages-166-174.pdf"
        with open(path, "wb") as f:
            writer.write(f)
        files.append(str(path))
        for drug, page, band, dose in MALARIA_ROWS:
            cases.append({"kind": "WHO malaria (real)", "row": f"{band} {dose}", "page": page - MALARIA_PAGES.start,
                          "q": f"What is the dose of {drug} for a body weight of {band} kg?", "source": str(path)})
    files.append(str(ROOT / "corpora" / "sample"))
    return files, cases


def run_version(code: Path, files: list[str], cases: list[dict], index: Path) -> list:
    env = dict(os.environ, PYTHONPATH=str(code), HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, "-c", _WORKER, json.dumps(files), json.dumps([c["q"] for c in cases]),
                           str(index)], capture_output=True, text=True, env=env, cwd=str(code), timeout=1800)
    if proc.returncode:
        sys.exit(f"table QA with {code} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def judge(case: dict, top: list[dict]) -> dict:
    in_text = [p for p in top if case["row"] in flat_lines(p["text"])]
    cited = [p for p in in_text if p["page"] == case["page"] == p["page_end"] and p["source"] == case["source"]]
    return {"row_in_top3": bool(in_text), "row_and_page": bool(cited)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default=BASE, help="git revision for the 'before' figures")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files, cases = build(tmp)
        base = tmp / "base"
        base.mkdir()
        subprocess.run(f"git archive {args.base} ragmed | tar -x -C {base}", shell=True, check=True, cwd=ROOT)
        t0 = time.perf_counter()
        runs = {"before": run_version(base, files, cases, tmp / "idx-before"),
                "after": run_version(ROOT, files, cases, tmp / "idx-after")}
        seconds = time.perf_counter() - t0
    summary: dict = {}
    misses: dict = {}
    for label, tops in runs.items():
        for case, top in zip(cases, tops):
            j = judge(case, top)
            s = summary.setdefault(label, {}).setdefault(case["kind"], {"rows": 0, "row_in_top3": 0, "row_and_page": 0})
            s["rows"] += 1
            s["row_in_top3"] += j["row_in_top3"]
            s["row_and_page"] += j["row_and_page"]
            if not j["row_and_page"]:
                misses.setdefault(label, []).append(case["q"])
    result = {"command": "python -m benchmarks.table_qa" + (f" --base {args.base}" if args.base != BASE else ""),
              "base": args.base, "machine": f"{cpu_name()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
              "date": time.strftime("%Y-%m-%d"), "seconds": round(seconds, 1), "summary": summary,
              "misses": {k: v[:40] for k, v in misses.items()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "table_qa.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    md = ["# Table QA: one question per dosing-table row", "",
          f"Command: `{result['command']}` · {result['machine']} · {result['date']} · before = `{args.base}`", "",
          "| version | table | rows | right row in top 3 (numbers intact) | ... and cited with its page |",
          "|---|---|---:|---:|---:|"]
    for label, kinds in summary.items():
        for kind, s in kinds.items():
            md.append(f"| {label} | {kind} | {s['rows']} | {s['row_in_top3'] / s['rows']:.1%} "
                      f"| {s['row_and_page'] / s['rows']:.1%} |")
    md += ["", "Misses after: " + ("; ".join(misses.get("after", [])[:20]) or "none")]
    (RESULTS / "table_qa.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
