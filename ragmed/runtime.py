"""llama.cpp runtime options (threads, batch sizes, KV-cache type): the part of the settings that
generate/ hands to llama.cpp; re-exported by config.py, which builds them from `Settings`."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path


@functools.cache  # /proc/cpuinfo is read once per process, not per generator or settings lookup
def physical_cores() -> int | None:
    """Physical CPU cores (SMT siblings counted once), from /proc/cpuinfo; None where unknown.
    llama.cpp runs best with one thread per physical core (a sibling thread competes for the same
    vector units)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    cores = set(re.findall(r"physical id\s*:\s*(\d+).*?core id\s*:\s*(\d+)", text, re.S))
    return len(cores) or None


KV_TYPES = {"f16": 1, "q8_0": 8}  # ggml type ids of the KV-cache types offered (GGML_TYPE_F16, _Q8_0)


@dataclass(frozen=True)
class RuntimeOptions:
    """llama.cpp context settings chosen for speed (a q8_0 KV cache may also change outputs slightly).

    Defaults are chosen by `make bench-ttft` (benchmarks/ttft.py, "settings" table): see the README's
    performance section. `threads` 0 = one per physical core; `n_batch` tokens are submitted per decode call,
    `n_ubatch` per compute pass; `flash_attn` uses llama.cpp's fused attention kernel on the CPU;
    `kv_type` q8_0 halves the KV cache's memory; `mlock` keeps the weights in RAM.
    """

    threads: int = 0  # 0: one per physical core (all CPUs where that is unknown)
    n_batch: int = 512
    n_ubatch: int = 512
    flash_attn: bool = False
    kv_type: str = "f16"
    mlock: bool = False

    @property
    def n_threads(self) -> int:
        """The thread count used: `threads`, else one per physical core, else one per CPU."""
        return self.threads or physical_cores() or os.cpu_count() or 1

    def llama_kwargs(self) -> dict:
        threads = self.n_threads
        kv = KV_TYPES[self.kv_type]
        return {"n_threads": threads, "n_threads_batch": threads, "n_batch": self.n_batch,
                "n_ubatch": min(self.n_ubatch, self.n_batch), "flash_attn": self.flash_attn,
                "type_k": kv, "type_v": kv, "use_mlock": self.mlock}
