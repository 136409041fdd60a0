"""Hypothesis-driven mutations of real PDFs, shared by tests/test_hostile.py and benchmarks/fuzz_pdf.py.

A mutation is a short list of edits (flip, insert, delete, duplicate, truncate, or damage a PDF
keyword or number) applied to the bytes of a seed PDF. Each mutated file is then extracted in
ragmed's isolated worker; every outcome must be a document or a clear `DocumentError`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, seed as hseed, settings
from hypothesis import strategies as st

KEYWORDS = [b"obj", b"endobj", b"stream", b"endstream", b"xref", b"trailer", b"startxref", b"/Length",
            b"/Type", b"/Pages", b"/Kids", b"/Count", b"/Root", b"/Filter", b"/FlateDecode", b"R", b"<<", b">>"]
NASTY = [b"0", b"-1", b"99999999999", b"1 0 R", b"<<", b">>", b"[", b"]", b"(", b")", b"\x00",
         b"\xff\xfe", b"%%EOF", b"/Count 1000000000", b"0 0 obj << >> endobj"]

edit = st.one_of(
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("nasty"), st.floats(0, 1), st.sampled_from(NASTY)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 512)),
    st.tuples(st.just("duplicate"), st.floats(0, 1), st.integers(1, 2048)),
    st.tuples(st.just("truncate"), st.floats(0.05, 1), st.just(0)),
    st.tuples(st.just("keyword"), st.integers(0, 10_000), st.sampled_from(NASTY)),
)


def mutate(data: bytes, edits: list[tuple]) -> bytes:
    buf = bytearray(data)
    for kind, where, arg in edits:
        if not buf:
            break
        if kind == "keyword":  # replace the n-th keyword occurrence or the n-th number
            spots = [m.start() for m in re.finditer(rb"obj|endobj|stream|/Length \d+|/Count \d+|\d+ 0 R", bytes(buf))]
            if spots:
                pos = spots[where % len(spots)]
                end = pos + (re.match(rb"\S+( \d+( 0 R)?)?", bytes(buf[pos:pos + 32])) or re.match(rb".", b".")).end()
                buf[pos:end] = arg
            continue
        pos = int(where * (len(buf) - 1))
        if kind == "flip":
            buf[pos] ^= arg
        elif kind in ("insert", "nasty"):
            buf[pos:pos] = arg
        elif kind == "delete":
            del buf[pos:pos + arg]
        elif kind == "duplicate":
            buf[pos:pos] = buf[pos:pos + arg]
        elif kind == "truncate":
            del buf[max(1, pos):]
    return bytes(buf)


def generate(seeds: list[Path], out: Path, n: int, seed: int = 0) -> list[Path]:
    """Write n mutated PDFs (deterministic for a seed) into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    originals = [p.read_bytes() for p in seeds]
    made: list[Path] = []

    @hseed(seed)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(which=st.integers(0, len(originals) - 1), edits=st.lists(edit, min_size=1, max_size=6))
    def one(which, edits):
        if len(made) >= n:
            return
        data = mutate(originals[which], edits)
        path = out / f"fuzz-{len(made):05d}-{hashlib.sha1(data).hexdigest()[:8]}.pdf"
        path.write_bytes(data)
        made.append(path)

    one()
    return made


def classify(result) -> str:
    """'ok' (a document), or the kind of clear error."""
    from ragmed.errors import DocumentError

    if not isinstance(result, DocumentError):
        return "ok"
    msg = str(result)
    for key, kind in (("limit", "limit"), ("crashed", "crash"), ("no extractable text", "no text"),
                      ("not a PDF", "not a PDF"), ("no pages", "no pages"), ("encrypted", "encrypted")):
        if key in msg:
            return kind
    return "unreadable"


def check_document(doc) -> None:
    """Invariants of an extracted document, whatever the input was."""
    assert doc.pages, "a document has pages"
    assert [p.number for p in doc.pages] == list(range(1, len(doc.pages) + 1))
    for p in doc.pages:
        assert doc.text[p.start:p.start + len(p.text)] == p.text
    assert isinstance(doc.title, str) and doc.title


def tally(results) -> Counter:
    return Counter(classify(r) for r in results)
