"""The trash: removing a document keeps it for `days` days, listed and restorable, then purges it.

Used by `ragmed docs remove|trash|restore|purge` and by the server's DELETE, `/trash` routes and
the web page (issue 22, "roles and undo"). Layout, one folder per removed document:

    <index_dir>/trash/<collection>/<entry id>/entry.json   the `TrashEntry` below
    <index_dir>/trash/<collection>/<entry id>/<file name>  the document's file as it was

Removing takes the document out of the index (`RagMed.remove`) after its file is safe in the trash:
a file the caller owns (`owned`: the server's upload folder) is moved there, any other file is
copied (the original is not touched, as before). Restoring puts the file back where it was when
that place is empty and ingests it again with its tags (its vectors are re-embedded: the trash keeps
files, not index entries, so it works the same for a local or a shared Chroma collection). Entries
older than `days` are purged whenever the trash is read or written. The trash folder is private to
this machine's index folder.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .api import RagMed
from .errors import CollectionNotFoundError, InputError
from .files import private_dir
from .ingest.pipeline import doc_id_for
from .reports import DocumentReport, IngestReport

DEFAULT_TRASH_DAYS = 30.0  # how long a removed document can be restored (`--trash-days`)
DAY_S = 86400.0


@dataclass(frozen=True)
class TrashEntry:
    """One removed document. Times are Unix seconds; `id` names its trash folder."""

    id: str
    collection: str
    path: str  # where the document lived; restored there
    file_name: str
    title: str
    removed_at: float
    purge_after: float
    kept: str  # the file's copy in the trash
    doc_id: str = ""  # the id the server used for it (sha256 of its path, 16 hex)
    date: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["days_left"] = round(max(0.0, self.purge_after - time.time()) / DAY_S, 1)
        return d


class Trash:
    """The trash of one collection (`rag`'s). `days`: how long entries are kept (> 0)."""

    def __init__(self, rag: RagMed, days: float = DEFAULT_TRASH_DAYS, root: Path | None = None):
        if days <= 0:
            raise InputError(f"The trash must keep documents for more than 0 days (got {days}).")
        self.rag, self.days = rag, float(days)
        self.root = Path(root) if root else Path(rag.settings.index_dir) / "trash" / rag.settings.collection

    # -- remove ----------------------------------------------------------------------------------
    def remove(self, paths: Iterable[str | Path], owned: Path | None = None) -> list[tuple[DocumentReport, TrashEntry | None]]:
        """Move each document to the trash: its file first (moved when under `owned`, else copied),
        then out of the index. A failed removal leaves the index and the file as they were."""
        self.purge()
        infos = {str(Path(i.path)): i for i in self.rag.documents()}
        out: list[tuple[DocumentReport, TrashEntry | None]] = []
        for raw in [paths] if isinstance(paths, (str, Path)) else paths:
            key = str(Path(raw).expanduser().resolve())
            info = infos.get(key) or infos.get(str(raw))
            if info is None:
                out.append((DocumentReport(str(raw), "failed", error=f"{raw} is not in collection "
                                           f"{self.rag.settings.collection!r} (see `ragmed docs list`)."), None))
                continue
            entry, moved = self._keep(info, owned)
            report = self.rag.remove([info.path])[0]
            if report.failed:
                self._undo_keep(entry, moved)
                out.append((report, None))
            else:
                out.append((report, entry))
        return out

    def _keep(self, info, owned: Path | None) -> tuple[TrashEntry, bool]:
        src = Path(info.path)
        now = time.time()
        doc_id = doc_id_for(info.path)
        folder = self.root / f"{int(now * 1000)}-{doc_id}"
        private_dir(folder)
        kept = folder / src.name
        moved = owned is not None and src.parent.resolve() == Path(owned).resolve()
        if src.is_file():
            (shutil.move if moved else shutil.copy2)(str(src), str(kept))
        entry = TrashEntry(folder.name, self.rag.settings.collection, info.path, src.name, info.title, now,
                           now + self.days * DAY_S, str(kept), doc_id, info.date, dict(info.tags))
        (folder / "entry.json").write_text(json.dumps(asdict(entry), ensure_ascii=False), encoding="utf-8")
        return entry, moved

    def _undo_keep(self, entry: TrashEntry, moved: bool) -> None:
        if moved and Path(entry.kept).is_file() and not Path(entry.path).exists():
            shutil.move(entry.kept, entry.path)
        shutil.rmtree(self.root / entry.id, ignore_errors=True)

    # -- list, restore, purge -----------------------------------------------------------------------
    def entries(self) -> list[TrashEntry]:
        """The documents in the trash, most recently removed first (expired ones purged first)."""
        self.purge()
        return self._read()

    def _read(self) -> list[TrashEntry]:
        out = []
        if self.root.is_dir():
            for f in self.root.glob("*/entry.json"):
                try:
                    out.append(TrashEntry(**json.loads(f.read_text(encoding="utf-8"))))
                except (OSError, ValueError, TypeError):
                    continue  # a half-written entry (a crash while removing): ignored, purged with its folder
        return sorted(out, key=lambda e: e.removed_at, reverse=True)

    def get(self, entry_id: str) -> TrashEntry:
        """The entry by id, or by the removed document's doc_id or file name (the newest)."""
        for e in self.entries():
            if entry_id in (e.id, e.doc_id, e.file_name, e.path):
                return e
        raise CollectionNotFoundError(
            f"Nothing called {entry_id!r} in the trash of collection {self.rag.settings.collection!r} "
            f"(looked in {self.root.absolute()}); list it with `ragmed docs trash`.")

    def restore(self, entry_id: str) -> IngestReport:
        """Put the document back: its file where it was (when that place is empty) and into the
        index with its tags. The entry leaves the trash only when the ingest succeeded."""
        e = self.get(entry_id)
        target = Path(e.path)
        if not target.exists():
            if not Path(e.kept).is_file():
                raise CollectionNotFoundError(f"The trash holds no file for {e.file_name} (looked for {e.kept}).")
            private_dir(target.parent)
            shutil.copy2(e.kept, target)
        report = self.rag.ingest([target], tags=e.tags or None, restore=True)  # lifts the removal's exclusion
        if report.ok:
            shutil.rmtree(self.root / e.id, ignore_errors=True)
        return report

    def purge_entry(self, entry_id: str) -> None:
        """Delete one entry now (no undo)."""
        shutil.rmtree(self.root / self.get(entry_id).id, ignore_errors=True)

    def purge(self, everything: bool = False, now: float | None = None) -> list[TrashEntry]:
        """Delete the entries kept longer than `days` (all of them with `everything`)."""
        now = time.time() if now is None else now
        gone = [e for e in self._read() if everything or e.purge_after <= now]
        for e in gone:
            shutil.rmtree(self.root / e.id, ignore_errors=True)
        return gone


__all__ = ["Trash", "TrashEntry", "DEFAULT_TRASH_DAYS"]
