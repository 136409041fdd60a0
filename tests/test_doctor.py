"""`ragmed doctor` on this machine with the bundled model (real llama.cpp, real embedder)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ragmed.cli import cli


def test_doctor_reports_build_and_measured_speeds():
    res = CliRunner().invoke(cli, ["doctor", "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert r["cpu"]["logical_cpus"] >= 1 and r["llama_cpp"]["installed"]
    assert r["llama_cpp"]["features"]  # what the installed build was compiled with
    sp, ex = r["speed"], r["expected"]
    assert sp["model"] == "smollm2-135m" and sp["prompt_tokens_per_s"] > 0 and sp["generation_tokens_per_s"] > 0
    assert sp["prompt_tokens_measured"] >= 200
    # the estimate is the budget's prompt tokens at the measured rate, cold and with the fixed part cached
    assert ex["prompt_tokens_at_budget"] > ex["fixed_prompt_tokens"] > 50
    assert abs(ex["ttft_cold_s"] - ex["prompt_tokens_at_budget"] / sp["prompt_tokens_per_s"]) <= 0.06
    assert ex["ttft_prefix_cached_s"] < ex["ttft_cold_s"]
    assert r["embedder"]["tokens_per_s"] > 0


def test_doctor_without_measuring_loads_no_model():
    res = CliRunner().invoke(cli, ["doctor", "--no-measure", "--model", "no-such-model"])
    assert res.exit_code == 0, res.output
    assert "llama.cpp" in res.output and "Model" not in res.output


def test_doctor_prints_as_it_measures_gives_a_verdict_and_checks_the_index(demo_rag, monkeypatch):
    import os

    from ragmed import doctor

    seen = []
    report = doctor.diagnose(demo_rag, collection=True, on_part=lambda kind, r: seen.append((kind, sorted(r))))
    kinds = [k for k, _ in seen]
    assert kinds[0] == "machine" and kinds[-3:] == ["model", "embedder", "verdict"] and "index" in kinds
    assert "speed" not in seen[0][1]  # the machine part was printed before the model was measured
    assert report["verdict"].startswith(f"About {report['expected']['ttft_cold_s']:.0f} s to the first word")
    assert report["model_load_s"] >= 0
    ix = report["index"]
    assert ix["exists"] and ix["documents"] == 1 and ix["missing_files"] == [] and ix["free_disk_mb"] > 0
    assert ix["embedder_export_ready"] is True
    monkeypatch.setattr(os, "getloadavg", lambda: (64.0, 64.0, 64.0))
    assert doctor.busy()["load_1min"] == 64.0
    res = CliRunner().invoke(cli, ["doctor", "--no-measure", "-c", "nosuch", "--index-dir", str(demo_rag.index.index_dir)])
    assert res.exit_code == 0 and "Warning  the machine is busy" in res.output
    assert "collection 'nosuch' does not exist in the folder" in res.output and "Disk " in res.output
