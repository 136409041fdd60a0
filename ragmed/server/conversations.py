"""Conversation routes and hooks: the threads API and the history of a `/v1/ask` request.

    GET    /v1/threads           threads, most recently used first (id, title, turns, times)
    POST   /v1/threads           start a thread ({"title"?}); or send `"thread": "new"` to /v1/ask
    GET    /v1/threads/{id}      a thread with its turns (question, answer, search query, citations)
    DELETE /v1/threads/{id}      delete it (its file is removed)

Storage and privacy: threads.py.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from ..errors import InputError
from ..types import Turn
from .schemas import AskRequest, ThreadRequest


def ask_history(service, body: AskRequest) -> tuple[list[Turn], str | None]:
    """(history, thread id or None) of a `/v1/ask` request: its `history`, or its thread's turns
    (`"thread": "new"` starts a thread titled by the question)."""
    if body.thread and body.history:
        raise InputError('Send either "history" or "thread", not both.')
    if body.thread == "new":
        return [], service.threads.create(body.question, body.collection or service.settings.collection)["id"]
    if body.thread:
        return service.threads.history(body.thread), body.thread
    return body.turns(), None


def record(service, thread_id: str | None, answer: dict[str, Any]) -> dict[str, Any]:
    """The answer's JSON, with `thread` (id, title, turns) when it was added to a thread."""
    if thread_id:
        answer = {**answer, "thread": service.threads.append(thread_id, answer)}
    return answer


def add_routes(app: FastAPI, service) -> None:
    threads = service.threads

    @app.get("/v1/threads", tags=["threads"])
    async def list_threads():
        return {"threads": await run_in_threadpool(threads.list), "enabled": threads.enabled,
                "retention_days": threads.retention_days}

    @app.post("/v1/threads", tags=["threads"])
    async def create_thread(body: ThreadRequest):
        return await run_in_threadpool(threads.create, body.title, body.collection or service.settings.collection)

    @app.get("/v1/threads/{thread_id}", tags=["threads"])
    async def get_thread(thread_id: str):
        return await run_in_threadpool(threads.get, thread_id)

    @app.delete("/v1/threads/{thread_id}", tags=["threads"])
    async def delete_thread(thread_id: str):
        return await run_in_threadpool(threads.delete, thread_id)


__all__ = ["add_routes", "ask_history", "record"]
