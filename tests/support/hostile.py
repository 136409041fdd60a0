"""Malformed and hostile inputs for the ingestion tests, generated (nothing downloaded or committed).

`make_all(folder)` writes one file (or link) per case and returns {name: expectation}, where the
expectation is "fail" (a clear per-file error) or "ok" (ingested, maybe with warnings).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

from . import pdfgen


def _raw_pdf(objects: list[bytes], root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, trailer_extra, xref)
    return bytes(out)


def _page_with_stream(stream: bytes, filter_: bytes = b"", extra_objects: list[bytes] = ()) -> bytes:
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d %s>>\nstream\n" % (len(stream), filter_) + stream + b"\nendstream",
        font,
        *extra_objects,
    ]
    return _raw_pdf(objects)


def text_stream(text: str) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td (" + text.encode("latin-1") + b") Tj ET"


def truncated(path: Path, source: Path) -> None:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def broken_xref(path: Path) -> None:
    data = _page_with_stream(text_stream("Broken xref but readable text about fictional fever care."))
    cut = data.rindex(b"startxref")
    # point startxref at garbage and scramble every offset of the table
    data = data[:cut] + b"startxref\n99999999\n%%EOF\n"
    data = data.replace(b" 00000 n ", b" 00000 q ")
    path.write_bytes(data)


def zero_pages(path: Path) -> None:
    path.write_bytes(_raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]))


def lying_page_count(path: Path) -> None:
    """Claims a billion pages, has one."""
    data = _page_with_stream(text_stream("One real page about fictional fever care."))
    path.write_bytes(data.replace(b"/Count 1 ", b"/Count 1000000000 "))


def many_pages(path: Path, n: int = 3000) -> None:
    """A real PDF with n blank pages (page counts far beyond any guideline)."""
    from pypdf import PdfWriter

    w = PdfWriter()
    for _ in range(n):
        w.add_blank_page(width=200, height=200)
    with path.open("wb") as f:
        w.write(f)


def cyclic_pages(path: Path) -> None:
    """A page tree whose Kids contain the tree itself."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    path.write_bytes(_raw_pdf(objects))


def cyclic_outline(path: Path) -> None:
    """Readable text, but the outline's Next pointers form a loop."""
    stream = text_stream("Readable page with a looping outline about fictional fever care.")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Outlines 6 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Outlines /First 7 0 R /Last 8 0 R /Count 2 >>",
        b"<< /Title (Loop A) /Parent 6 0 R /Next 8 0 R /Dest [3 0 R /Fit] >>",
        b"<< /Title (Loop B) /Parent 6 0 R /Next 7 0 R /Prev 7 0 R /Dest [3 0 R /Fit] >>",
    ]
    path.write_bytes(_raw_pdf(objects))


def deep_nesting(path: Path, depth: int = 50_000) -> None:
    """An object nested 50,000 arrays deep."""
    deep = b"[" * depth + b"]" * depth
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Deep 3 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        deep,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Extra 3 0 R >>",
    ]
    path.write_bytes(_raw_pdf(objects))


def decompression_bomb(path: Path, megabytes: int = 1024) -> None:
    """A content stream of ~1 MB that inflates to about `megabytes` MB."""
    comp = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    body = b"".join(comp.compress(chunk) for _ in range(megabytes)) + comp.flush()
    path.write_bytes(_page_with_stream(body, b"/Filter /FlateDecode "))


def invalid_utf16(path: Path) -> None:
    """A title in UTF-16 with a lone surrogate and an odd byte count, and readable page text."""
    data = _page_with_stream(text_stream("Page text that is fine, about fictional fever care and fluids."),
                             extra_objects=[b"<< /Title <FEFFD800004100> /Author <FEFF00> >>"])
    data = data.replace(b"/Root 1 0 R ", b"/Root 1 0 R /Info 6 0 R ")
    path.write_bytes(data)


def garbage_text_operators(path: Path) -> None:
    """Text operators with malformed operands and unbalanced BT/ET."""
    stream = b"BT /F1 12 Tf 72 720 Td (Readable start about fictional fever care.) Tj ET BT BT ) Tj (x Tj 1 2 3 TJ ET ET"
    path.write_bytes(_page_with_stream(stream))


def make_all(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "good.pdf"
    pdfgen.make_guideline_pdf(good)
    cases: dict[str, str] = {"good.pdf": "ok"}

    def case(name: str, expect: str, fn, *args) -> None:
        fn(folder / name, *args)
        cases[name] = expect

    case("truncated.pdf", "fail", truncated, good)
    case("broken-xref.pdf", "ok", broken_xref)  # pypdf rebuilds the xref: the text is kept
    case("zero-pages.pdf", "fail", zero_pages)
    case("lying-page-count.pdf", "ok", lying_page_count)
    case("many-pages.pdf", "fail", many_pages)  # 3,000 pages, none with text
    case("cyclic-pages.pdf", "fail", cyclic_pages)
    case("cyclic-outline.pdf", "ok", cyclic_outline)
    case("deep-nesting.pdf", "any", deep_nesting)
    case("bomb.pdf", "fail", decompression_bomb)
    case("invalid-utf16.pdf", "ok", invalid_utf16)
    case("garbage-operators.pdf", "any", garbage_text_operators)  # pypdf gives up on the page
    case("encrypted.pdf", "fail", pdfgen.make_encrypted_pdf)
    case("encrypted-empty-password.pdf", "ok", pdfgen.make_encrypted_empty_password_pdf)
    case("not-a-pdf.pdf", "fail", pdfgen.make_not_a_pdf)
    case("empty.pdf", "fail", pdfgen.make_empty_file)
    # links and non-regular files
    os.symlink("loop-b.pdf", folder / "loop-a.pdf")
    os.symlink("loop-a.pdf", folder / "loop-b.pdf")
    cases["loop-a.pdf"] = cases["loop-b.pdf"] = "fail"
    sub = folder / "sub"
    sub.mkdir()
    os.symlink("..", sub / "up")  # a folder loop: not followed
    os.symlink("missing.pdf", folder / "dangling.pdf")
    cases["dangling.pdf"] = "fail"
    os.mkfifo(folder / "fifo.pdf")
    cases["fifo.pdf"] = "fail"
    return cases
