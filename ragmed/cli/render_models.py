"""What `ragmed models ...` and `ragmed doctor` print (re-exported by cli/render.py)."""

from __future__ import annotations

from typing import Any  # noqa: F401

import click


def model_status_line(st) -> str:
    size = f"{st.size / 1e9:.2f} GB" if st.size else (f"~{st.spec['approx_size_gb']} GB" if st.spec.get("approx_size_gb") else "size ?")
    return f"{st.name:<18} {st.state:<9} {st.spec['quantisation']:<17} {size:<10} {st.spec.get('repo_id') or 'bundled'}"


def model_list(rows) -> None:
    for r in rows:
        click.echo(model_status_line(r))


def model_pulled(st) -> None:
    click.echo(f"{model_status_line(st)}\n  {st.path}\n  sha256 {st.sha256} ({st.sha256_source})")


def model_verified(st) -> None:
    click.echo(f"{st.name}: {st.state}, sha256 {st.sha256}")


def model_removed(name: str, removed: bool) -> None:
    click.echo(f"removed {name}" if removed else f"{name} was not on this machine")


def doctor(report: dict) -> None:
    """The whole report at once (see `doctor_part` for printing it as it is measured)."""
    for kind in ("machine", "busy", "index", "model", "embedder", "verdict"):
        if kind == "machine" or kind in report or (kind == "model" and "speed" in report):
            doctor_part(kind, report)


def doctor_part(kind: str, report: dict) -> None:
    """One part of `ragmed doctor`'s report, printed as soon as it is measured."""
    if kind == "machine":
        cpu, mem, build = report["cpu"], report["memory"], report["llama_cpp"]
        click.echo(f"CPU      {cpu.get('model', '?')} ({cpu.get('arch')}), {cpu.get('physical_cores', '?')} cores / "
                   f"{cpu.get('logical_cpus')} threads; features: {' '.join(cpu.get('features', [])) or '?'}")
        if mem:
            click.echo(f"Memory   {mem['total_mb']:,} MB, {mem['available_mb']:,} MB available")
        if build.get("installed"):
            click.echo(f"llama.cpp  llama-cpp-python {build['version']}; build uses: {' '.join(build['features'])}")
        else:
            click.echo("llama.cpp  not installed: run `make setup`")
        click.echo(f"Threads  {report['ragmed_threads']} (RAGMED_THREADS)")
    elif kind == "busy":
        b = report["busy"]
        click.echo(f"Warning  the machine is busy (load {b['load_1min']} on {b['cpus']} CPUs): the speeds below "
                   "are slower than on an idle machine.")
    elif kind == "index":
        ix = report["index"]
        if not ix["exists"]:
            click.echo(f"Index    collection {ix['collection']!r} does not exist {ix['where']}")
        else:
            missing = ix["missing_files"]
            click.echo(f"Index    {ix['collection']!r} {ix['where']}: {ix['documents']} documents"
                       + (f"; {len(missing)} source file(s) missing: {', '.join(missing[:3])}" if missing else
                          "; every source file present"))
        ready = ix.get("embedder_export_ready")
        click.echo(f"Disk     {ix['free_disk_mb']:,} MB free"
                   + ("" if ready is None else "; embedder ONNX export " + ("ready" if ready else "missing (made on first use)")))
    elif kind == "model":
        sp, ex = report["speed"], report["expected"]
        rt = sp["runtime"]
        click.echo(f"Model    {sp['model']} loaded in {report.get('model_load_s', 0):.1f} s: prompt "
                   f"{sp['prompt_tokens_per_s']} tokens/s, generation "
                   f"{sp['generation_tokens_per_s']} tokens/s (n_ctx {sp['n_ctx']}, {sp['threads']} threads, "
                   f"n_batch {rt['n_batch']}/{rt['n_ubatch']}, flash attention {'on' if rt['flash_attn'] else 'off'}, "
                   f"KV {rt['kv_type']})")
        click.echo(f"Expect   time to first token of a grounded answer: about {ex['ttft_cold_s']} s cold "
                   f"({ex['prompt_tokens_at_budget']} prompt tokens), {ex['ttft_prefix_cached_s']} s when the "
                   f"fixed {ex['fixed_prompt_tokens']} tokens are cached (passage budget {ex['passage_tokens']}, "
                   f"RAGMED_PASSAGE_TOKENS; compression {ex['compress_tokens'] or 'off'}, RAGMED_COMPRESS_TOKENS)")
    elif kind == "embedder":
        em = report["embedder"]
        click.echo(f"Embedder {em['embedder']} ({em['backend']}): {em['tokens_per_s']:,} tokens/s ({em['texts_per_s']} passages/s)")
    elif kind == "verdict":
        click.echo(f"Verdict  {report['verdict']}")


# -- research -----------------------------------------------------------------------------------
