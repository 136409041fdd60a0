"""OpenAI-compatible routes: `GET /v1/models` and `POST /v1/chat/completions`.

Any OpenAI client can talk to ragmed. All messages are used: the last user message is the question,
the earlier user/assistant messages its history (a follow-up is searched for as a standalone
question, `ragmed.search_query`), and system messages are instructions placed under the grounding
rules, which they cannot change (prompt/history.py). The response is OpenAI's, plus:
- `citations`: the resolved [n] citations (document, page, section, quote, date/version);
- `ragmed`: the whole `ragmed ask --json` answer (claims and their support, abstention, passages).
- `unsupported`: the answer's sentences that the checks did not find supported, each with its
  status and reason. They are never part of `content`.
`content` holds only checked, supported sentences (OpenAI's format has no place for a mark, and
streamed deltas cannot be taken back), or ragmed's own text when it refuses or withholds the answer
(why, and the passages' best sentences), preceded by ragmed's notices that belong with the answer
("Note (ragmed): Your question is about children; protocol.pdf, page 1 says: ...", superseded
editions, sources that disagree): a clinician reads them before any dose. Streaming sends
`chat.completion.chunk` deltas: those notes first (as soon as retrieval is done), the thinking trace
as `reasoning_content`, each supported sentence once checked as `content` (a note found only from
the answer's own citations comes after it: deltas cannot be put back in front), and a last chunk
carrying `citations`, `unsupported` and `ragmed`. Citations to passages that were never given
are dropped from `citations` and listed in `ragmed.invalid_citations`.
"""

from __future__ import annotations

import json
from typing import Any, AsyncIterator

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from ..conversation import split_messages
from .schemas import ChatCompletionRequest
from .service import Service, new_id, now


def _usage(answer: dict[str, Any]) -> dict[str, int]:
    u = answer.get("usage", {})
    p, c = int(u.get("prompt_tokens", 0)), int(u.get("completion_tokens", 0))
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _finish(answer: dict[str, Any]) -> str:
    return "length" if answer.get("finish_reason") == "length" else "stop"


def notes(answer: dict[str, Any], sent: list[str] | None = None) -> str:
    """ragmed's notices that belong with the answer (ground/release.for_clinician: superseded
    editions, disagreeing sources, who the guidance is for) and are not in `sent`, as a paragraph
    put in front of `content` ("Note (ragmed): ...\\n\\n"): an OpenAI client shows only `content`,
    and the note must be read before any dose. Adds them to `sent` when given."""
    from ..ground.release import for_clinician

    found = [n for n in for_clinician(answer.get("notices") or []) if n not in (sent or [])]
    if sent is not None:
        sent.extend(found)
    return "\n".join(f"Note (ragmed): {n}" for n in found) + "\n\n" if found else ""


def completion(answer: dict[str, Any], model: str, cid: str) -> dict[str, Any]:
    return {
        "id": cid, "object": "chat.completion", "created": now(), "model": model,
        "choices": [{"index": 0, "finish_reason": _finish(answer), "message": {
            "role": "assistant", "content": notes(answer) + answer["answer"],
            **({"reasoning_content": answer["reasoning"]} if answer.get("reasoning") else {})}}],
        "usage": _usage(answer), "citations": answer["citations"], "unsupported": unsupported(answer),
        "ragmed": answer,
    }


def unsupported(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The checked sentences left out of `content`, with why (grounded answers only)."""
    return [{"text": c["text"], "status": c["status"], "reason": c.get("reason", "")}
            for c in answer.get("claims", []) if c["status"] != "supported"]


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
    body = {"id": cid, "object": "chat.completion.chunk", "created": now(), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


def add_routes(app: FastAPI, service: Service) -> None:
    @app.get("/v1/models", tags=["openai"])
    async def models():
        return {"object": "list", "data": [{"id": service.settings.model, "object": "model",
                                            "created": 0, "owned_by": "local"}]}

    @app.post("/v1/chat/completions", tags=["openai"])
    async def chat_completions(body: ChatCompletionRequest):
        """OpenAI chat completions answered by ragmed from the collection (extra body fields:
        `collection`, `k`, `grounded`); the response adds `citations` and `ragmed`."""
        instructions, history, question = split_messages(body.messages)
        rag = service.rag(body.collection, max_tokens=body.max_completion_tokens or body.max_tokens,
                          temperature=body.temperature, seed=body.seed)
        kwargs = dict(k=body.k, grounded=body.grounded, history=history, instructions=instructions)
        cid = new_id("chatcmpl")
        model = service.settings.model
        if not body.stream:
            answer = await service.models.run(lambda: service.logged(
                "chat", rag.settings.collection, lambda: rag.ask(question, **kwargs)))
            return completion(answer.to_dict(), answer.model or model, cid)
        events = service.ask_events(rag, question, **kwargs)
        return StreamingResponse(_openai_stream(events, cid, model), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _openai_stream(events: AsyncIterator[tuple[str, dict]], cid: str, model: str) -> AsyncIterator[bytes]:
    streamed: list[str] = []
    noted: list[str] = []  # notes sent (before the answer, from the evidence event)
    yield _chunk(cid, model, {"role": "assistant", "content": ""})
    async for kind, data in events:
        if kind == "evidence":  # who the guidance is for, editions: first
            said = notes(data, noted)
            if said:
                yield _chunk(cid, model, {"content": said})
        elif kind == "answer":
            streamed.append(data["text"])
            yield _chunk(cid, model, {"content": data["text"]})
        elif kind == "reasoning":
            yield _chunk(cid, model, {"reasoning_content": data["text"]})
        elif kind == "error":
            yield f"data: {json.dumps(data)}\n\n".encode()
        elif kind == "final":
            sent = "".join(streamed).strip()
            said = notes(data, noted)  # not sent yet: a refusal's (no evidence event), or the answer's citations'
            if not sent and data["answer"].strip():  # ragmed's refusal or withheld notice (its own text)
                yield _chunk(cid, model, {"content": said + data["answer"]})
            elif said:
                yield _chunk(cid, model, {"content": "\n\n" + said.rstrip()})
            yield _chunk(cid, model, {}, _finish(data), usage=_usage(data), citations=data["citations"],
                         unsupported=unsupported(data), ragmed=data)
    yield b"data: [DONE]\n\n"


__all__ = ["add_routes", "completion"]
