"""The CLI as a client of a running `ragmed serve` on this machine: no cold start (issue 23, part 3).

`ragmed serve` writes a small JSON file, `INDEX_DIR/run/serve-PORT.json` (`advertise`), removed when it
stops (`withdraw`): its pid, loopback host and port, collection, whether it needs a token, and the
settings that decide what retrieval and evidence mode return (`retrieval_settings`: every `Settings`
field but those of generation and ingestion, `NOT_RETRIEVAL`). `ragmed search` and `ragmed ask --mode
evidence` look for such a file (`find`); when its process is alive, its host is loopback, its
collection and retrieval settings equal the command's, they ask it over HTTP (`search`, `evidence`)
and print what it returns exactly as they print an in-process result (the records are rebuilt by
`passage_from_dict` / `answer_from_dict`; `--json` prints the server's JSON, which is the in-process
JSON). Anything else - no file, a dead pid, other settings, a refused token, an HTTP error, a
timeout - returns None and the command runs in-process; with `-v` one line on stderr says which and
why. `--no-server` or RAGMED_NO_SERVER=1 skips the server. Tokens: RAGMED_STAFF_TOKEN, else
RAGMED_SERVER_TOKEN (server/security.py's rules); without one a server that needs a token is not asked.

`ask` in answer mode stays in-process: its generation options (model, tokens, sampling, thinking)
are not all expressible in `/v1/ask`, and its streamed, checked output would need an SSE client.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..files import pid_alive

log = logging.getLogger(__name__)

# Settings that change neither the passages `search` returns nor evidence mode's sentences.
NOT_RETRIEVAL = frozenset({
    "model", "generator_url", "n_ctx", "max_tokens", "reasoning_tokens", "thinking", "speculative", "preset",
    "temperature", "top_p", "top_k", "repeat_penalty", "seed", "threads", "n_batch", "n_ubatch", "flash_attn",
    "kv_type", "mlock", "embed_batch_size", "log_content", "isolate", "doc_time_limit_s", "doc_memory_limit_mb",
})
TIMEOUT_S = 30.0


def run_dir(index_dir) -> Path:
    return Path(index_dir).expanduser().resolve() / "run"


def retrieval_settings(settings) -> dict[str, Any]:
    """The settings that decide retrieval and evidence results, as JSON values (index_dir resolved)."""
    out = {}
    for f in fields(settings):
        if f.name in NOT_RETRIEVAL:
            continue
        value = getattr(settings, f.name)
        out[f.name] = str(Path(value).expanduser().resolve()) if f.name == "index_dir" else value
    return json.loads(json.dumps(out, default=str))


def advertise(settings, host: str, port: int, auth: bool) -> Path:
    """Write this server's file (see the module docstring); returns its path."""
    from ..files import private_dir

    d = run_dir(settings.index_dir)
    private_dir(d)
    path = d / f"serve-{port}.json"
    record = {"pid": os.getpid(), "host": host, "port": port, "collection": settings.collection, "auth": auth,
              "settings": retrieval_settings(settings)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record), encoding="utf-8")
    tmp.replace(path)
    return path


def withdraw(path: Path) -> None:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def disabled() -> bool:
    from ..config import no_local_server

    return no_local_server()



def find(settings) -> dict | None:
    """The record of a running server for these settings, or None (the reason logged at INFO)."""
    from ..server.security import is_loopback

    d = run_dir(settings.index_dir)
    files = sorted(d.glob("serve-*.json")) if d.is_dir() else []
    if not files:
        return None
    want, why = retrieval_settings(settings), "no server for this collection"
    for path in files:
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
            pid, host, port = int(rec["pid"]), str(rec["host"]), int(rec["port"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not pid_alive(pid):
            why = f"the server of {path.name} (pid {pid}) is not running"
            continue
        if not is_loopback(host) or rec.get("collection") != settings.collection:
            continue
        theirs = rec.get("settings") or {}
        diff = sorted(k for k in set(want) | set(theirs) if want.get(k) != theirs.get(k))
        if diff:
            why = f"the server at {host}:{port} has other settings ({', '.join(diff)})"
            continue
        return rec
    log.info("in-process, not the running server: %s.", why)
    return None


def _post(rec: dict, route: str, body: dict) -> dict | None:
    import urllib.error
    import urllib.request

    from ..config import server_token, staff_token

    token = staff_token() or server_token()
    url = f"http://{rec['host']}:{rec['port']}{route}"
    if rec.get("auth") and not token:
        log.info("in-process, not the server at %s: it needs a token (RAGMED_STAFF_TOKEN).", url)
        return None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, json.dumps(body).encode("utf-8"), headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        log.info("in-process, not the server at %s: it answered HTTP %s.", url, exc.code)
        return None
    except (OSError, ValueError) as exc:
        log.info("in-process, not the server at %s: %s.", url, exc)
        return None
    log.info("answered by the running server at %s (pid %s).", url, rec["pid"])
    return data


def _filter(where) -> dict | None:
    if where is None or where.empty:
        return None
    return {"documents": list(where.documents), "sections": list(where.sections), "tags": dict(where.tags),
            "after": where.after, "before": where.before}


def search(settings, query: str, k: int | None, where) -> list[dict] | None:
    """`POST /v1/search` on a matching running server: the passages' dicts (as `Passage.to_dict`), or None."""
    rec = find(settings)
    if rec is None:
        return None
    data = _post(rec, "/v1/search", {"query": query, "collection": settings.collection, "k": k,
                                     "filter": _filter(where)})
    if data is None or not isinstance(data.get("passages"), list):
        return None
    return [{key: v for key, v in p.items() if key != "n"} for p in data["passages"]]


def evidence(settings, question: str, k: int | None, where) -> dict | None:
    """`POST /v1/ask` in evidence mode on a matching running server: `Answer.to_dict()`, or None."""
    rec = find(settings)
    if rec is None:
        return None
    data = _post(rec, "/v1/ask", {"question": question, "collection": settings.collection, "k": k,
                                  "mode": "evidence", "filter": _filter(where)})
    return data if data is not None and "answer" in data else None


# -- the records, rebuilt from their JSON ----------------------------------------------------------
def _known(cls, d: dict, **conv) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: conv[k](v) if k in conv else v for k, v in d.items() if k in names})


def passage_from_dict(d: dict):
    """A `Passage` from `Passage.to_dict()` (derived keys such as page and section_path ignored)."""
    from ..types import Passage

    return _known(Passage, d, page_labels=tuple, section=tuple, page_breaks=tuple)


class _Record:
    """A record kept as its JSON (conflicts): `to_dict` gives it back unchanged."""

    def __init__(self, d: dict):
        self._d = d

    def to_dict(self) -> dict:
        return dict(self._d)


def answer_from_dict(d: dict):
    """An `Answer` from `Answer.to_dict()`, for the CLI's renderer (`to_dict` of it gives `d` back)."""
    from ..ground.evidence import EvidenceSentence
    from ..types import Abstention, Answer, Citation, Claim, Support, Timings, Usage

    claim = {"cites": tuple, "supported_by": tuple, "missing_numbers": tuple}
    return Answer(
        question=d["question"], answer=d["answer"], reasoning=d.get("reasoning", ""), grounded=d["grounded"],
        citations=[_known(Citation, c) for c in d.get("citations", [])],
        passages=[passage_from_dict(p) for p in d.get("passages", [])],
        invalid_citations=list(d.get("invalid_citations", [])), reasoning_closed=d.get("reasoning_closed", True),
        reasoning_truncated=d.get("reasoning_truncated", False), finish_reason=d.get("finish_reason", ""),
        model=d.get("model", ""), usage=_known(Usage, d.get("usage") or {}),
        timings=_known(Timings, d.get("timings") or {}),
        evidence=[_known(EvidenceSentence, e) for e in d.get("evidence", [])],
        claims=[_known(Claim, c, **claim) for c in d.get("claims", [])],
        support=_known(Support, d["support"]) if d.get("support") else None,
        abstained=d.get("abstained", False),
        abstention=_known(Abstention, d["abstention"]) if d.get("abstention") else None,
        model_answer=d.get("model_answer", ""), gate_score=d.get("gate_score"), notices=list(d.get("notices", [])),
        compression=None, conflicts=[_Record(c) for c in d.get("conflicts", [])])


# -- the commands' hook ------------------------------------------------------------------------------
def no_server_option(fn):
    import click

    return click.option("--no-server", is_flag=True,
                        help="Run in-process even when a `ragmed serve` for this collection is running "
                             "(or RAGMED_NO_SERVER=1).")(fn)


def via_server(kind: str, text: str, collection, index_dir, chroma_url, k, where, as_json: bool,
               show_withheld: bool = False, **overrides) -> bool | dict:
    """Run `search` (kind "search") or `ask --mode evidence` ("evidence") on a matching running
    server and print the result as the in-process command would; False: nothing printed, run
    in-process; else True (search) or the answer's JSON (evidence). `overrides` are the command's settings options (None: not given)."""
    if disabled():
        return False
    from ..config import Settings
    from ..errors import RagmedError
    from . import render

    try:
        settings = Settings.from_env().with_(collection=collection, index_dir=index_dir, chroma_url=chroma_url,
                                             **overrides)
    except RagmedError:
        return False  # in-process reports it
    if kind == "search":
        found = search(settings, text, k, where)
        if found is None or (not found and not where.empty):  # the in-process path explains an empty filter
            return False
        if as_json:
            render.emit_json(found)
        else:
            render.passages([passage_from_dict(p) for p in found])
        return True
    data = evidence(settings, text, k, where)
    if data is None:
        return False
    if as_json:
        render.emit_json(data)
        return data
    answer = answer_from_dict(data)
    render.evidence_text(answer)
    render.answer_footer(answer, False, True, show_withheld)
    return data
