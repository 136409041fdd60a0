"""The trash routes (admin token only; `security.needs_admin`): list, restore and purge the
documents removed from a collection (ragmed/trash.py keeps them `ragmed serve --trash-days` days)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .service import Service


def add_routes(app: FastAPI, service: Service) -> None:
    @app.get("/v1/collections/{collection}/trash", tags=["documents"])
    async def trash(collection: str):
        """The removed documents that can still be restored, newest first, with `days_left`."""
        entries = await run_in_threadpool(lambda: service.trash(collection).entries())
        return {"collection": collection, "days": service.config.trash_days,
                "entries": [e.to_dict() for e in entries]}

    @app.post("/v1/collections/{collection}/trash/{entry_id}/restore", tags=["documents"])
    async def restore(collection: str, entry_id: str):
        """Put a removed document back (re-ingested from the trash's copy, with its tags)."""
        return await run_in_threadpool(service.restore, collection, entry_id)

    @app.delete("/v1/collections/{collection}/trash/{entry_id}", tags=["documents"])
    async def purge_one(collection: str, entry_id: str):
        """Delete one entry from the trash now (no undo)."""
        def purge():
            t = service.trash(collection)
            e = t.get(entry_id)
            t.purge_entry(e.id)
            return {"purged": e.to_dict()}
        return await run_in_threadpool(purge)
