"""ONNX Runtime embedder backends: the same sentence-transformers model, exported once, offline.

Backends (`--embedder-backend`, `RAGMED_EMBEDDER_BACKEND`):

| backend     | what runs                                   | vectors                                  |
|-------------|---------------------------------------------|------------------------------------------|
| `torch`     | sentence-transformers on PyTorch            | the reference                            |
| `onnx`      | the model exported to ONNX, fp32, fused     | equal to torch's (cosine > 0.9999)       |
| `onnx-int8` | the fused export, int8 dynamic quantisation | close, not equal: a family of its own    |

The export is made from the model's local weights with `torch.onnx.export` (no hub, no optimum),
fused by ONNX Runtime's transformer optimizer (attention, LayerNorm and GELU as single kernels; kept
only when its vectors equal the plain export's), quantised with ONNX Runtime's `quantize_dynamic`,
and cached beside the model in `<model>/onnx/` (or, when that folder is read-only or RAGMED_HOME is
set, in `config.cache_dir()/onnx/<model>`: `$RAGMED_HOME/cache/onnx/...` or `~/.cache/ragmed/onnx/...`). It is written to a temporary
folder and renamed into place, so an interrupted export is redone, never half-used.

Inference mirrors the model's sentence-transformers pipeline (Transformer -> Pooling -> Normalize):
the same tokenizer with the same truncation length, masked mean (or CLS) pooling, L2 normalisation.
Only that pipeline shape is supported; anything else is refused with what to do.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path

from ..config import EMBEDDER_BACKENDS, cache_dir, check_backend, home  # noqa: F401 (check_backend re-exported)
from ..errors import ConfigError, DependencyMissingError

log = logging.getLogger(__name__)

BACKENDS = EMBEDDER_BACKENDS  # defined in config.py, which validates the setting (check_backend)

# Vectors of backends in one family are interchangeable within one collection; across families not.
# fp32: torch and the onnx export compute the same vectors. Each int8 quantisation scheme is its own
# family (a new scheme gives other vectors); manifests written before families were recorded had "int8".
FAMILY = {"torch": "fp32", "onnx": "fp32", "onnx-int8": "int8-v2"}
_LEGACY_FAMILY = {"torch": "fp32", "onnx": "fp32", "onnx-int8": "int8"}
EXPORT_VERSION = 3  # 2: fused graph (eager-attention trace + ORT transformer optimizer); 3: int8 of all ops
_EXPORT_LOCK = threading.Lock()


def vector_family(build: dict) -> str:
    """The vector family a collection's build record (manifest) was embedded with."""
    backend = build.get("embedder_backend", "torch")
    return build.get("embedder_family") or _LEGACY_FAMILY.get(backend, backend)


def _pipeline(model_dir: Path) -> tuple[str, int]:
    """(pooling mode, max_seq_length) of a Transformer -> Pooling [-> Normalize] model folder."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        types = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pool_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pool = json.loads((model_dir / pool_dir / "config.json").read_text())
        seq = json.loads((model_dir / "sentence_bert_config.json").read_text()).get("max_seq_length", 512)
    except (OSError, KeyError, StopIteration, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"The embedder at {model_dir} is not a Transformer + Pooling sentence-transformers folder "
            f"({exc}); use --embedder-backend torch for it."
        ) from exc
    if types[:2] != ["Transformer", "Pooling"] or any(t not in ("Transformer", "Pooling", "Normalize") for t in types):
        raise ConfigError(f"The ONNX backends support Transformer + Pooling (+ Normalize) models; {model_dir} "
                          f"has {types}. Use --embedder-backend torch.")
    if pool.get("pooling_mode_mean_tokens"):
        mode = "mean"
    elif pool.get("pooling_mode_cls_token"):
        mode = "cls"
    else:
        raise ConfigError(f"The ONNX backends support mean or CLS pooling; {model_dir} uses another. "
                          "Use --embedder-backend torch.")
    return mode, int(seq)


def _weights_key(model_dir: Path) -> str:
    """Identifies the weights an export was made from (name and size of each weight file)."""
    h = hashlib.sha1(f"v{EXPORT_VERSION}".encode())
    for f in sorted(model_dir.glob("*.safetensors")) + sorted(model_dir.glob("*.bin")):
        st = f.stat()
        h.update(f"{f.name}:{st.st_size}".encode())
    return h.hexdigest()[:12]


def export_dir(model_dir: Path) -> Path:
    """Where this model's exports are written: beside the model (`<model>/onnx/`) when that folder is
    writable and RAGMED_HOME is unset; else `config.cache_dir()/onnx/<hash of the model folder>`
    ($RAGMED_HOME/cache/onnx/..., or ~/.cache/ragmed/onnx/...)."""
    beside = model_dir / "onnx"
    if home() is None and (os.access(model_dir, os.W_OK) or os.access(beside, os.W_OK)):
        return beside
    return cache_dir() / "onnx" / hashlib.sha1(str(model_dir).encode()).hexdigest()[:12]


# Families of encoders ONNX Runtime's transformer optimizer fuses as BERT (attention, LayerNorm, GELU).
_FUSABLE = {"bert", "roberta", "xlm-roberta", "camembert", "electra"}
_PROBE = ["Hypertension is treated with lifestyle change and, if needed, medication.",
          "Give 0.5 mg/kg orally every 6 hours; maximum 4 doses in 24 hours.",
          "Refer patients with red flags (fever, weight loss, night pain) the same day."]


def _export(model_dir: Path, out: Path) -> None:
    """model.onnx (fp32) and model_qint8.onnx from the local weights, into the folder `out`.

    The export is traced with eager attention, so that ONNX Runtime's transformer optimizer can fuse
    each layer's attention, LayerNorm and GELU into single kernels (faster on CPU, the same vectors;
    `make bench-embedders` measures the backend). The fused graph is kept only if its vectors equal the unfused ones on probe sentences;
    otherwise the plain export is used.
    """
    try:
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
    except ImportError as exc:  # pragma: no cover
        raise DependencyMissingError("The ONNX backends need onnx and onnxruntime: run `make setup`.") from exc

    from .offline import quiet_transformers as _quiet_transformers

    _quiet_transformers()  # no weight-loading progress bar
    try:
        model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
    except (TypeError, ValueError):  # a model class without selectable attention
        model = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
    model.eval()
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if model.config.type_vocab_size > 1 else [])
    dummy = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes["last_hidden_state"] = {0: "batch", 1: "tokens"}

    class Wrapped(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *args):
            return self.inner(**dict(zip(names, args))).last_hidden_state

    root = logging.getLogger()
    level = root.level
    plain = out / "plain.onnx"
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about the model's Python control flow
        torch.onnx.export(Wrapped(model), dummy, str(plain), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17,
                          dynamo=False)
        root.setLevel(logging.ERROR)  # onnxruntime's "consider pre-processing" advice and fusion chatter
        try:
            final = out / "model.onnx"
            fused = _fuse(plain, final, model_dir, model.config)
            if not fused:
                os.replace(plain, final)
            (out / "export.json").write_text(json.dumps({"version": EXPORT_VERSION, "fused": fused}))
            # every op ONNX Runtime quantises dynamically (matrix multiplies, the fused attention, the
            # embedding tables), weights per channel: the fastest int8 scheme; its speed and its
            # quality cost are in benchmarks/results/embedder_backends.md
            quantize_dynamic(str(final), str(out / "model_qint8.onnx"), weight_type=QuantType.QInt8,
                             per_channel=True, extra_options={"DefaultTensorType": 1})  # FLOAT: fused ops' outputs
        finally:
            root.setLevel(level)
            plain.unlink(missing_ok=True)


def _fuse(plain: Path, fused: Path, model_dir: Path, config) -> bool:
    """Write the optimizer-fused graph to `fused` if it is a fusable family and its vectors equal
    the plain graph's on probe sentences. False (and nothing written) otherwise."""
    if getattr(config, "model_type", "") not in _FUSABLE:
        return False
    try:
        from onnxruntime.transformers import optimizer

        opt = optimizer.optimize_model(str(plain), model_type="bert", num_heads=config.num_attention_heads,
                                       hidden_size=config.hidden_size, opt_level=1)
        opt.save_model_to_file(str(fused))
        pooling, seq = _pipeline(model_dir)
        a = _Session(plain, model_dir, pooling, seq, threads=1).encode(_PROBE)
        b = _Session(fused, model_dir, pooling, seq, threads=1).encode(_PROBE)
        if float((a * b).sum(1).min()) > 0.99999:
            return True
        log.warning("the fused ONNX graph of %s changes its vectors; using the plain export", model_dir.name)
    except Exception as exc:  # noqa: BLE001 - the optimizer is an optional speed-up
        log.warning("ONNX fusion of %s failed (%s); using the plain export", model_dir.name, exc)
    fused.unlink(missing_ok=True)
    return False


def ensure_export(model_dir: Path) -> Path:
    """The folder holding this model's ONNX files, exporting them first if needed (once, atomic).

    An export already beside the model (made by `make setup`) is used as it is, also with
    RAGMED_HOME set; a new one is written to `export_dir(model_dir)`."""
    key = _weights_key(model_dir)
    installed = model_dir / "onnx" / key
    if (installed / "model_qint8.onnx").exists():
        return installed
    base = export_dir(model_dir)
    final = base / key
    if (final / "model_qint8.onnx").exists():
        return final
    with _EXPORT_LOCK:
        if (final / "model_qint8.onnx").exists():
            return final
        base.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=base))
        try:
            log.info("exporting %s to ONNX (once)", model_dir.name)
            _export(model_dir, tmp)
            os.chmod(tmp, 0o755)  # mkdtemp makes it private; the export is shared like the model
            try:
                os.replace(tmp, final)
            except OSError:  # another process finished first
                if not (final / "model_qint8.onnx").exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        for old in base.iterdir():  # exports of an earlier version (or earlier weights): dead weight
            if old.is_dir() and old != final and not old.name.startswith(".") and (old / "model.onnx").exists():
                shutil.rmtree(old, ignore_errors=True)
    return final


class _Session:
    """A tokenizer plus an ONNX Runtime session of one graph file: texts in, normalised vectors out."""

    def __init__(self, file: Path, model_dir: Path, pooling: str, max_seq_length: int, threads: int = 0):
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover
            raise DependencyMissingError("The ONNX backends need onnxruntime: run `make setup`.") from exc
        from . import fast_tokenizer
        self.file, self.pooling, self.max_seq_length = file, pooling, max_seq_length
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or (os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(file), opts, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        # BERT-family folders: tokenizer.json read directly (no transformers, hence no torch, import)
        self.tokenizer = fast_tokenizer.load(model_dir) or _auto_tokenizer(model_dir)
        self.dimension = int(json.loads((model_dir / "config.json").read_text())["hidden_size"])

    def encode(self, texts: list[str], batch_size: int = 8, **_ignored):
        import numpy as np

        out = []
        for i in range(0, len(texts), batch_size):
            enc = self.tokenizer(texts[i : i + batch_size], padding=True, truncation=True,
                                 max_length=self.max_seq_length, return_tensors="np")
            feed = {n: enc[n].astype(np.int64) for n in self.inputs if n in enc}
            if "token_type_ids" in self.inputs and "token_type_ids" not in feed:
                feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
            hidden = self.session.run(None, feed)[0]
            if self.pooling == "mean":
                mask = feed["attention_mask"][..., None].astype(np.float32)
                vec = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            else:
                vec = hidden[:, 0]
            vec /= np.clip(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12, None)
            out.append(vec.astype(np.float32))
        return np.concatenate(out) if out else np.zeros((0, self.dimension), dtype=np.float32)


def _auto_tokenizer(model_dir: Path):
    from transformers import AutoTokenizer

    from .offline import quiet_transformers

    quiet_transformers()
    return AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)


class OnnxModel(_Session):
    """The subset of a SentenceTransformer that `Embedder` uses, on ONNX Runtime."""

    def __init__(self, model_dir: Path, backend: str, threads: int = 0):
        pooling, seq = _pipeline(model_dir)
        files = ensure_export(model_dir)
        super().__init__(files / ("model_qint8.onnx" if backend == "onnx-int8" else "model.onnx"),
                         model_dir, pooling, seq, threads)

    def get_sentence_embedding_dimension(self) -> int:
        return self.dimension
