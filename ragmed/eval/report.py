"""Markdown and self-contained HTML reports of a comparison, with matplotlib plots.

Files written into the run folder: report.md (plots as plots/*.png beside it), report.html (the same,
plots embedded as data URIs: one file to mail or archive). Reports hold aggregate figures only, no
question or passage text (that stays in records.jsonl).
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

ARMS = ("grounded", "ungrounded")
COLOURS = {"grounded": "#2b6cb0", "ungrounded": "#a0aec0"}


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _ci(ci) -> str:
    return "–" if not ci or ci[0] != ci[0] else f"[{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def _num(x, unit: str = "") -> str:
    return "–" if x is None else f"{x:.3g}{unit}" if unit else f"{x:.1f}"


def tables(summary: dict) -> list[str]:
    """The summary as Markdown tables."""
    a = summary["arms"]
    rows = [
        ("accuracy (all questions)", lambda s: _pct(s["accuracy"])),
        ("95% CI (bootstrap)", lambda s: _ci(s["accuracy_ci95"])),
        ("unparseable answers", lambda s: f"{s['unparseable']} ({_pct(s['unparseable_rate'])})"),
        ("accuracy on parseable answers", lambda s: _pct(s["accuracy_parseable"])),
        ("prompt tokens (mean)", lambda s: _num(s["prompt_tokens_mean"])),
        ("completion tokens (mean)", lambda s: _num(s["completion_tokens_mean"])),
        ("latency per answer (median)", lambda s: _num(s["latency_s_median"], " s")),
        ("time to first token (median)", lambda s: _num(s["ttft_s_median"], " s")),
    ]
    out = ["| | grounded | ungrounded |", "|---|---:|---:|"]
    out += [f"| {name} | {fn(a['grounded'])} | {fn(a['ungrounded'])} |" for name, fn in rows]
    g = a["grounded"]
    if "model_abstained_rate" in g:
        out.append(f"| model said the passages do not answer | {_pct(g['model_abstained_rate'])} | |")
        out.append(f"| claims supported by their citations (mean share) | {_pct(g.get('supported_share_mean'))} | |")
        out.append(f"| citation precision / recall (mean) | {_pct(g.get('citation_precision_mean'))} / "
                   f"{_pct(g.get('citation_recall_mean'))} | |")
    p = summary["paired"]
    out += ["", "| paired (grounded vs ungrounded) | |", "|---|---:|",
            f"| grounded right, ungrounded wrong (wins) | {p['wins']} |",
            f"| grounded wrong, ungrounded right (losses) | {p['losses']} |",
            f"| both right / both wrong | {p['ties_both_correct']} / {p['ties_both_wrong']} |",
            f"| accuracy difference, 95% CI | {_pct(p['difference'])} {_ci(p['difference_ci95'])} |",
            f"| McNemar exact p | {p['mcnemar_p']:.4g} |"]
    extra = []
    if "gate_would_abstain_rate" in summary:
        extra.append(f"the abstention gate would have abstained on {_pct(summary['gate_would_abstain_rate'])}")
    if "own_context_retrieved_rate" in summary:
        extra.append(f"the question's own context was among the retrieved passages for "
                     f"{_pct(summary['own_context_retrieved_rate'])}")
    if extra:
        out += ["", "Retrieval: " + "; ".join(extra) + " of the questions."]
    return out


def _plots(result) -> dict[str, bytes]:
    """PNG plots; {} when matplotlib is not installed."""
    try:  # Figure + the Agg canvas: no pyplot, so a notebook's own backend is left alone
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return {}

    def subplots(ncols=1, figsize=(4.5, 3.0)):
        fig = Figure(figsize=figsize)
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, ncols)
        return fig, axes
    s, recs = result.summary, result.records
    groups = {"all": s} | {k: v for k, v in s.get("by_subset", {}).items()}
    pngs = {}

    def save(fig, name):
        buf = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buf, format="png", dpi=110)
        pngs[name] = buf.getvalue()

    fig, ax = subplots(figsize=(max(4.5, 1.6 * len(groups)), 3.4))
    width = 0.38
    for i, arm in enumerate(ARMS):
        acc = [100 * (g["arms"][arm]["accuracy"] or 0) for g in groups.values()]
        lo = [100 * g["arms"][arm]["accuracy_ci95"][0] for g in groups.values()]
        hi = [100 * g["arms"][arm]["accuracy_ci95"][1] for g in groups.values()]
        xs = [j + (i - 0.5) * width for j in range(len(groups))]
        ax.bar(xs, acc, width, color=COLOURS[arm], label=arm,
               yerr=[[a - l for a, l in zip(acc, lo)], [h - a for a, h in zip(acc, hi)]], capsize=3)
    ax.set_xticks(range(len(groups)), [f"{k}\n(n={g['questions']})" for k, g in groups.items()])
    ax.set_ylabel("accuracy, % (95% CI)")
    ax.set_ylim(0, 100)
    ax.legend(frameon=False)
    save(fig, "accuracy")

    p = s["paired"]
    fig, ax = subplots(figsize=(4.5, 3.0))
    names = ["wins", "losses", "both right", "both wrong"]
    vals = [p["wins"], p["losses"], p["ties_both_correct"], p["ties_both_wrong"]]
    ax.bar(names, vals, color=["#38a169", "#e53e3e", "#a0aec0", "#4a5568"])
    ax.set_ylabel("questions")
    ax.set_title(f"grounded vs ungrounded (McNemar p = {p['mcnemar_p']:.3g})", fontsize=9)
    save(fig, "wins_losses")

    fig, axes = subplots(3, figsize=(10, 3.0))
    for ax, key, label in zip(axes, ("latency_s", "prompt_tokens", "completion_tokens"),
                              ("latency per answer (s)", "prompt tokens", "completion tokens")):
        ax.boxplot([[r[a][key] for r in recs] for a in ARMS], tick_labels=list(ARMS))
        ax.set_title(label, fontsize=9)
    save(fig, "distributions")
    return pngs


def markdown(result, plots: dict[str, bytes]) -> str:
    h = result.header
    m, d, r = h["model"], h["dataset"], h["retrieval"]
    lines = [
        f"# ragmed compare: {d['name']} ({d['split']} split, {result.summary['questions']} questions)", "",
        f"- model: `{m['id']}` ({m['quantisation']}, sha256 `{(m['sha256'] or 'n/a')[:16]}…`), "
        f"context {m['n_ctx']}, {m['generator']}",
        f"- decoding: temperature {h['decoding']['temperature']}, seed {h['decoding']['seed']}, "
        f"max tokens {h['decoding']['max_tokens']} (preset {h['decoding']['preset']})",
        f"- retrieval: collection `{r['collection']}` ({r['documents']} document(s), embedder {r['embedder']}), "
        f"{r['mode']}, k = {r['k']}, {r['query']}",
        f"- dataset file sha256 `{d['sha256'][:16]}…`; ragmed {h['ragmed_version']}; started {h['started_at']}",
        "", *tables(result.summary), "",
    ]
    for sub, s in result.summary.get("by_subset", {}).items():
        lines += [f"## {sub}", "", *tables(s), ""]
    for name in plots:
        lines.append(f"![{name}](plots/{name}.png)")
    lines += ["", "Accuracy counts every question; unparseable answers are not correct and are shown "
                  "separately. Records: `records.jsonl`; run header: `header.json`."]
    return "\n".join(lines) + "\n"


def _md_table_to_html(lines: list[str]) -> str:
    out, in_table = [], False
    for line in lines:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-:"):
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        else:
            if in_table:
                out.append("</table>")
                in_table = False
            if line.startswith("## "):
                out.append(f"<h2>{html.escape(line[3:])}</h2>")
            elif line.startswith("# "):
                out.append(f"<h1>{html.escape(line[2:])}</h1>")
            elif line.startswith("- "):
                out.append(f"<p class=meta>{html.escape(line[2:])}</p>")
            elif line.startswith("![") and "](plots/" in line:
                continue
            elif line.strip():
                out.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        out.append("</table>")
    return "\n".join(out)


def write_reports(result) -> list[Path]:
    out = Path(result.out)
    plots = _plots(result)
    (out / "plots").mkdir(exist_ok=True)
    for name, png in plots.items():
        (out / "plots" / f"{name}.png").write_bytes(png)
    md = markdown(result, plots)
    (out / "report.md").write_text(md, encoding="utf-8")
    imgs = "".join(f'<figure><img alt="{name}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
                   f"</figure>" for name, png in plots.items())
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        f"<title>{html.escape(md.splitlines()[0][2:])}</title><style>"
        "body{font:14px/1.45 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#1a202c}"
        "table{border-collapse:collapse;margin:1em 0}td{border:1px solid #cbd5e0;padding:4px 10px}"
        "tr:first-child td{font-weight:600;background:#edf2f7}p.meta{margin:.2em 0;color:#4a5568}"
        "img{max-width:100%}figure{margin:1em 0}</style>"
        f"{_md_table_to_html(md.splitlines())}{imgs}</html>\n"
    )
    (out / "report.html").write_text(page, encoding="utf-8")
    return [out / "report.md", out / "report.html"]
