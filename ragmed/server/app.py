"""The HTTP API and the web page (FastAPI). `create_app(ServerConfig)` builds it; `ragmed serve` runs it.

Routes (all JSON; the OpenAPI schema is at /openapi.json):
    GET  /                                      the web page for clinic staff
    POST /v1/session                            exchange the token for a session cookie (web page)
    GET  /v1/health                             version, model, queue
    GET  /v1/collections                        collections with document and chunk counts
    GET  /v1/collections/{c}/documents          indexed documents and recent upload jobs
    POST /v1/collections/{c}/documents          upload a document (.pdf .docx .html .txt .md, images; multipart "file"; ?wait=true blocks)
    GET  /v1/jobs/{id}                          an upload's ingest status
    GET  /v1/session                            this token's role (admin or staff)
    DELETE /v1/collections/{c}/documents/{id}   move a document to the trash (admin)
    GET  /v1/collections/{c}/trash              removed documents, restorable for N days (admin)
    POST /v1/collections/{c}/trash/{id}/restore put one back (admin)
    GET  /v1/collections/{c}/documents/{id}/file   the PDF (citations link to it with #page=N)
    POST /v1/search                             passages
    POST /v1/ask                                the same JSON as `ragmed ask --json`; stream: SSE;
                                                `history` or `thread` for follow-ups (conversations.py)
    GET/POST /v1/threads, GET/DELETE /v1/threads/{id}   server-side conversation threads
    POST /v1/check                              check any text against passages (claims, verdicts, reasons)
    GET  /v1/models, POST /v1/chat/completions  OpenAI-compatible, with citations added
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import Body, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from ..version import __version__
from ..errors import RagmedError
from ..models.registry import is_demo
from ..retrieve.filters import parse_tags
from .. import oplog
from . import conversations, openai_compat, trash_routes
from .errors import error_body, error_payload, status_of
from .jobs import QueueFull
from .middleware import Guard
from .schemas import AskRequest, CheckRequest, SearchRequest, SessionRequest
from .security import COOKIE
from .service import ServerConfig, Service, UploadTooLarge, sse

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def static_dir() -> Path:
    return Path(str(resources.files("ragmed.server") / "static"))


def pdfjs_dir() -> Path:
    """pdf.js (pdfjs-dist, Apache-2.0, with its LICENSE) as `make web` installs it: web/node_modules of
    the source checkout. Served at /vendor/pdfjs-dist/ for the cited-page viewer; when it is missing
    the page opens PDFs in the browser's own viewer, at the page but without the highlight."""
    return Path(__file__).resolve().parents[2] / "web" / "node_modules" / "pdfjs-dist"


def create_app(config: ServerConfig) -> FastAPI:
    service = Service(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        oplog.event("start", version=__version__, collection=service.settings.collection, model=service.settings.model,
                    auth=service.auth.enabled, staff_token=service.auth.staff_token is not None)
        if config.preload:
            await run_in_threadpool(service.preload)
        yield
        oplog.event("stop")
        service.close()

    # FastAPI's /docs pages load scripts from a CDN; the schema itself is served locally.
    app = FastAPI(title="ragmed", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Grounded, cited answers from a clinic's own documents, on this machine.")
    app.state.service = service
    app.add_middleware(Guard, service=service)

    @app.exception_handler(RagmedError)
    @app.exception_handler(UploadTooLarge)
    async def known_error(request: Request, exc: Exception):
        return JSONResponse(error_body(exc), status_code=status_of(exc))

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        """Anything unexpected: 500 in the same shape, the details only in the server log."""
        return JSONResponse(error_body(exc), status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        """FastAPI's 422 for a malformed request, in the same shape as every other error."""
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body') or 'request'}: "
                             f"{e.get('msg', 'invalid')}" for e in exc.errors())
        return JSONResponse(error_payload(f"Invalid request: {problems}.", "ValidationError", 422),
                            status_code=422)

    @app.exception_handler(QueueFull)
    async def queue_full(request: Request, exc: QueueFull):
        return JSONResponse(error_body(exc), status_code=503, headers={"Retry-After": str(exc.retry_after)})

    # -- page and session ---------------------------------------------------------------------
    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    if pdfjs_dir().is_dir():
        app.mount("/vendor/pdfjs-dist", StaticFiles(directory=pdfjs_dir()), name="pdfjs")

    @app.get("/", include_in_schema=False)
    async def page():
        return FileResponse(static_dir() / "index.html", media_type="text/html")

    @app.post("/v1/session", tags=["session"])
    async def session(body: SessionRequest):
        """The web page trades the token for an HttpOnly, SameSite=Strict session cookie; the answer
        says the token's role (admin: everything; staff: ask, search, read)."""
        if not service.auth.enabled:
            return {"auth": False, "role": "admin"}
        role = service.auth.role_of_token(body.token)
        if role is None:
            return JSONResponse(error_payload("Wrong token.", "Unauthorized", 401), status_code=401)
        resp = JSONResponse({"auth": True, "role": role})
        resp.set_cookie(COOKIE, service.auth.session_for(role), httponly=True, samesite="strict", path="/")
        return resp

    @app.get("/v1/session", tags=["session"])
    async def session_role(request: Request):
        """The role of this request's token or session cookie (null: none), for the page."""
        role = service.auth.role(request.headers.get("authorization"), request.cookies.get(COOKIE))
        return {"auth": service.auth.enabled, "role": role}

    @app.get("/v1/health", tags=["server"])
    async def health():
        s = service.settings
        return {"status": "ok", "version": __version__, "model": s.model, "collection": s.collection,
                "viewer": pdfjs_dir().is_dir(),
                "auth": service.auth.enabled, "queue": service.models.stats(), "demo_model": is_demo(s.model),
                "trash_days": config.trash_days,
                "max_upload_mb": config.max_upload_mb}

    # -- collections and documents --------------------------------------------------------------
    @app.get("/v1/collections", tags=["documents"])
    async def collections():
        return {"collections": await run_in_threadpool(service.collections),
                "default": service.settings.collection}

    @app.get("/v1/collections/{collection}/documents", tags=["documents"])
    async def documents(collection: str):
        return await run_in_threadpool(service.documents, collection)

    @app.post("/v1/collections/{collection}/documents", tags=["documents"], status_code=202)
    async def upload(collection: str, file: UploadFile = File(...), tags: list[str] = Form(default=[]),
                     wait: bool = Query(False, description="block until ingested")):
        """Upload a document (any format `ragmed ingest` reads) and ingest it (in the background; the document list shows its status)."""
        parsed = parse_tags(tags)
        path = await run_in_threadpool(service.store_upload, collection, file.filename, file.file,
                                       file.size or 0)
        job, future = service.ingests.submit(collection, path.name, str(path), parsed)
        if wait:
            await asyncio.wrap_future(future)
            return JSONResponse(job.to_dict(), status_code=200)
        return job.to_dict()

    @app.get("/v1/jobs/{job_id}", tags=["documents"])
    async def job(job_id: str):
        found = service.ingests.get(job_id)
        if found is None:
            return JSONResponse(error_payload(f"No job {job_id!r}.", "NotFound", 404), status_code=404)
        return found.to_dict()

    @app.delete("/v1/collections/{collection}/documents/{doc_id}", tags=["documents"])
    async def remove(collection: str, doc_id: str):
        return await run_in_threadpool(service.remove, collection, doc_id)

    @app.put("/v1/collections/{collection}/documents/{doc_id}/date", tags=["documents"])
    async def set_date(collection: str, doc_id: str, date: str = Body(..., embed=True)):
        """Correct a document's date (YYYY-MM-DD, YYYY-MM or YYYY); recorded as set by admin."""
        return await run_in_threadpool(service.set_date, collection, doc_id, date)

    trash_routes.add_routes(app, service)

    @app.get("/v1/collections/{collection}/documents/{doc_id}/file", tags=["documents"])
    async def document_file(collection: str, doc_id: str):
        path = await run_in_threadpool(service.document_path, collection, doc_id)
        if not path.is_file():
            return JSONResponse(error_payload(f"{path.name} is indexed but its file is not on this machine any more.",
                                              "Gone", 410), status_code=410)
        import mimetypes

        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media == "text/html":  # an uploaded page is shown as text, never run in the app's origin
            media = "text/plain"
        return FileResponse(path, media_type=media, filename=path.name,
                            content_disposition_type="inline")

    # -- retrieval and answers ---------------------------------------------------------------------
    @app.post("/v1/search", tags=["answers"])
    async def search(body: SearchRequest):
        rag = service.rag(body.collection)
        flt = body.filter.to_search_filter() if body.filter else None
        passages = await run_in_threadpool(rag.search, body.query, body.k, body.mode, flt)
        return {"query": body.query, "collection": rag.settings.collection,
                "passages": [{"n": i, **p.to_dict()} for i, p in enumerate(passages, 1)]}

    @app.post("/v1/ask", tags=["answers"])
    async def ask(body: AskRequest, request: Request):
        """The same JSON as `ragmed ask --json`. With `"stream": true` (or Accept: text/event-stream):
        server-sent events `queued`, `reasoning`/`answer` text pieces, then `final` (that JSON) or
        `error`. A full model queue answers 503 with Retry-After."""
        rag = service.rag(body.collection, thinking=body.thinking)
        flt = body.filter.to_search_filter() if body.filter else None
        stream = body.stream or "text/event-stream" in request.headers.get("accept", "")
        name = rag.settings.collection
        history, thread = await run_in_threadpool(conversations.ask_history, service, body)
        if body.mode == "evidence":  # no model: not queued
            answer = await run_in_threadpool(service.logged, "evidence", name,
                                             lambda: rag.evidence(body.question, k=body.k, filter=flt, history=history))
            data = await run_in_threadpool(conversations.record, service, thread, answer.to_dict())
            if stream:
                async def once():
                    yield sse("final", data)
                return StreamingResponse(once(), media_type="text/event-stream", headers=SSE_HEADERS)
            return data
        kwargs = dict(k=body.k, grounded=body.grounded, filter=flt, history=history)
        if stream:
            events = service.ask_events(rag, body.question, **kwargs)

            async def encoded():
                async for kind, data in events:
                    if kind == "final":
                        data = await run_in_threadpool(conversations.record, service, thread, data)
                    yield sse(kind, data)
            return StreamingResponse(encoded(), media_type="text/event-stream", headers=SSE_HEADERS)
        answer = await service.models.run(lambda: service.logged("ask", name, lambda: rag.ask(body.question, **kwargs)))
        return await run_in_threadpool(conversations.record, service, thread, answer.to_dict())

    @app.post("/v1/check", tags=["answers"])
    async def check(body: CheckRequest):
        """Check a text's sentences against the given passages: each claim with its verdict
        (supported, unsupported, uncited) and, when not supported, the reason in plain words."""
        rag = service.rag(body.collection)
        v = await run_in_threadpool(rag.check, body.text, body.passages)
        return v.to_dict()

    openai_compat.add_routes(app, service)
    conversations.add_routes(app, service)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return Response(status_code=204)

    return app
