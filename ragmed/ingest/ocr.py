"""Optical character recognition for scanned PDF pages and image files (.png, .jpg, .tif).

`ingest --ocr auto|off|force` (RagMed.ingest(ocr=...)):
- auto (default): OCR only the PDF pages without a text layer, and image files;
- off: never (pages without text stay flagged "no extractable text"; image files fail);
- force: OCR every PDF page, replacing its text layer (for PDFs whose text layer is garbage).

Engines: Tesseract 5 (Debian `tesseract-ocr`, called through pytesseract) and RapidOCR (PaddleOCR's
models on ONNX Runtime, inside the `rapidocr_onnxruntime` wheel). `ENGINE` is the one chosen by
`benchmarks/ocr_engines.py` (character error rate against the guideline PDFs' text layers, pages
per second, install size; results in benchmarks/results/ocr_engines.md); the other is used when
the chosen one is not installed. PDF pages are rendered with pypdfium2 at `DPI`. The words are put
in reading order by reading_order.py (columns one after the other; the engines' own order
interleaves the lines of side-by-side columns).

Each OCR'd page carries its provenance: `OcrPage(engine, confidence)`, confidence the mean word
confidence in 0-1 as the engine reports it. The ingestor records it per page in the manifest
(`ocr_pages`) and citations of those pages say so.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from ..errors import DocumentError
from . import reading_order

MODES = ("auto", "off", "force")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
ENGINE = "tesseract"  # benchmarks/ocr_engines.py: CER 15.3% vs RapidOCR's 58.6% at 200 dpi, ~6x faster, 28 vs 98 MB
DPI = 300  # benchmarks/ocr_engines.py: Tesseract's CER 14.6% at 300 dpi vs 15.3% at 200 (numbers kept 98.4% vs 97.5%)
MIN_CONFIDENCE = 0.5  # below this mean word confidence a page is kept but flagged "OCR uncertain"
LANG = "eng"
TESSERACT_CONFIG = "--psm 3"  # benchmarks/ocr_errors.py --compare-configs (dev): psm 3 7.10% CER, 4 7.21%, 6 7.53%, 11 8.10%
ORDER = "columns"  # reading_order.py; "engine" keeps the engine's own order (CER 11.9% vs 7.1% on the benchmark's dev pages)


@dataclass(frozen=True)
class OcrPage:
    """The text OCR read on one page and how sure the engine was."""

    text: str
    engine: str  # e.g. "tesseract 5.3.0", "rapidocr 1.4.4"
    confidence: float  # mean word confidence, 0-1

    def provenance(self) -> dict:
        return {"engine": self.engine, "confidence": round(self.confidence, 3)}


def available(engine: str | None = None) -> str | None:
    """The engine OCR will use (`engine`, else `ENGINE`, else the other installed one), or None."""
    order = [engine] if engine else [ENGINE, "rapidocr" if ENGINE == "tesseract" else "tesseract"]
    for name in order:
        if name == "tesseract" and shutil.which("tesseract"):
            try:
                import pytesseract  # noqa: F401
                return name
            except ImportError:
                continue
        if name == "rapidocr":
            try:
                import rapidocr_onnxruntime  # noqa: F401
                return name
            except ImportError:
                continue
    return None


def missing_message() -> str:
    return ("no OCR engine is installed: install Tesseract (`sudo apt-get install tesseract-ocr`, "
            "`brew install tesseract`) and run `pip install pytesseract`, or ingest with --ocr off")


# Called before each page is read (no argument). The isolated parser worker (isolate.py) sets it to
# restart its per-document clock: OCR takes seconds per page (benchmarks/ocr_gold_search.py: a
# 40-page forced OCR failed at the 120 s default limit), so the limit holds per OCR'd page.
on_page = None


def recognise(image, engine: str | None = None, order: str = ORDER) -> OcrPage:
    """OCR one PIL image; `order` "columns" (reading_order.py: columns one after the other) or
    "engine" (the engine's own order). Raises DocumentError when no engine is installed."""
    if on_page is not None:
        on_page()
    return compose(read_words(image, engine), order)


def read_words(image, engine: str | None = None) -> tuple[list, str, list[float]]:
    """The engine's words: ([(reading_order.Word, engine line key)], engine name and version,
    confidences 0-1). Raises DocumentError when no engine is installed."""
    name = available(engine)
    if name is None:
        raise DocumentError(missing_message())
    return _tesseract(image) if name == "tesseract" else _rapidocr(image)


def compose(read: tuple[list, str, list[float]], order: str = ORDER) -> OcrPage:
    """An OcrPage from `read_words`'s result, its text in reading `order` ("columns" or "engine")."""
    if order not in ("columns", "engine"):
        raise ValueError(f"OCR reading order must be 'columns' or 'engine', not {order!r}")
    words, version, confs = read
    text = reading_order.text([w for w, _ in words]) if order == "columns" else _engine_text(words)
    return OcrPage(text, version, sum(confs) / len(confs) if confs else 0.0)


def _engine_text(words: list[tuple[reading_order.Word, tuple]]) -> str:
    """The words in the engine's own order, a line per engine line key, a blank line between blocks."""
    out, last_line, last_block = [], None, None
    for word, key in words:
        if key[:-1] != last_block and out:
            out.append("")
        if key == last_line:
            out[-1] += " " + word.text
        else:
            out.append(word.text)
        last_line, last_block = key, key[:-1]
    return "\n".join(out)


def _tesseract(image):
    """([(Word, (block, paragraph, line))], engine version, word confidences 0-1)."""
    import pytesseract

    from ..embed.offline import limit_tesseract_threads

    limit_tesseract_threads()  # one thread (why: there)

    data = pytesseract.image_to_data(image, lang=LANG, config=TESSERACT_CONFIG, output_type=pytesseract.Output.DICT)
    words, confs = [], []
    for i, word in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if conf < 0 or not word.strip():
            continue
        left, top = data["left"][i], data["top"][i]
        box = reading_order.Word(word, left, top, left + data["width"][i], top + data["height"][i])
        words.append((box, (data["block_num"][i], data["par_num"][i], data["line_num"][i])))
        confs.append(conf / 100.0)
    version = str(pytesseract.get_tesseract_version()).split()[0]
    return words, f"tesseract {version}", confs


_RAPID = None


def _rapidocr(image):
    """([(Word, (0, row))], engine version, line confidences 0-1): RapidOCR reads text lines."""
    global _RAPID
    import numpy as np

    if _RAPID is None:
        from rapidocr_onnxruntime import RapidOCR

        _RAPID = RapidOCR()
    result, _ = _RAPID(np.asarray(image.convert("RGB")))
    rows = sorted(result or [], key=lambda r: (min(p[1] for p in r[0]), min(p[0] for p in r[0])))
    words = []
    for k, (quad, line, _) in enumerate(rows):
        xs, ys = [int(p[0]) for p in quad], [int(p[1]) for p in quad]
        words.append((reading_order.Word(line, min(xs), min(ys), max(xs), max(ys)), (0, k)))
    from importlib.metadata import version

    return words, f"rapidocr {version('rapidocr_onnxruntime')}", [float(r[2]) for r in rows]


def pages_with_images(path, indices: list[int]) -> list[int]:
    """The pages of `indices` (0-based) that hold an image to read: a page without text and without
    any image (blank, vector drawing only) has nothing for OCR, and a 3,000-page blank PDF must not
    be rendered page by page. Read with pypdf (the page's image XObjects and inline images)."""
    from pypdf import PdfReader

    reader = PdfReader(str(path), strict=False)
    out = []
    for i in indices:
        try:
            if reader.pages[i].images:
                out.append(i)
        except Exception:  # an unreadable resource: let OCR try, it reports what it finds
            out.append(i)
    return out


def render_pdf_page(path, index: int, dpi: int = DPI):
    """Page `index` (0-based) of a PDF as a grayscale PIL image at `dpi`."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return pdf[index].render(scale=dpi / 72.0, grayscale=True).to_pil()
    finally:
        pdf.close()


def pdf_pages(path, indices: list[int], engine: str | None = None, dpi: int = DPI) -> dict[int, OcrPage]:
    """OCR the given pages (0-based) of a PDF; {index: OcrPage}."""
    return {i: recognise(render_pdf_page(path, i, dpi), engine) for i in indices}


def image_file(path) -> list[OcrPage]:
    """OCR an image file, one OcrPage per frame (multi-page TIFF). DocumentError if unreadable."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            frames = [f.convert("L") for f in ImageSequence.Iterator(img)]
    except (UnidentifiedImageError, OSError) as exc:
        raise DocumentError(f"not a readable image ({type(exc).__name__})") from exc
    return [recognise(f) for f in frames]
