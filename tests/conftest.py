"""Shared fixtures. Everything is real: MiniLM embedder, embedded Chroma, SmolLM2 GGUF, real PDFs.

Heavy objects are session-scoped so the models load once. Tests that need ../shared/eval skip
with a reason when it is absent (a user's fresh clone).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
EVAL = Path(os.environ.get("RAGMED_EVAL_DIR", ROOT.parent / "shared" / "eval"))
GUIDELINES = EVAL / "guidelines"
SAMPLE_PDF = ROOT / "corpora" / "sample" / "demo-clinic-hypertension-protocol.pdf"

from support import pdfgen  # noqa: E402


def need_eval(sub: str) -> Path:
    path = EVAL / sub
    if not path.exists():
        pytest.skip(f"{path} not found: the third-party evaluation data (../shared/eval) is not present")
    return path


@pytest.fixture(scope="session")
def embedder():
    from ragmed.embed.sentence import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict:
    """A folder of generated PDFs: good ones, one with a blank page, and broken ones."""
    d = tmp_path_factory.mktemp("corpus")
    facts = {
        "guideline": pdfgen.make_guideline_pdf(d / "guideline.pdf", outline=True),
        "no_outline": pdfgen.make_guideline_pdf(d / "no-outline.pdf", outline=False, title="Fever Guideline Without Outline"),
        "blank": pdfgen.make_blank_page_pdf(d / "blank-page.pdf"),
        "encrypted": pdfgen.make_encrypted_pdf(d / "encrypted.pdf"),
        "empty_password": pdfgen.make_encrypted_empty_password_pdf(d / "empty-password.pdf"),
        "corrupt": pdfgen.make_corrupt_pdf(d / "corrupt.pdf"),
        "not_pdf": pdfgen.make_not_a_pdf(d / "not-a-pdf.pdf"),
        "empty": pdfgen.make_empty_file(d / "empty.pdf"),
    }
    (d / "notes.md").write_text(
        "# Ward notes\n\n## Hand hygiene\n\nStaff clean their hands for 20 seconds before each patient.\n"
    )
    return {"dir": d, "facts": facts}


@pytest.fixture()
def good_dir(tmp_path) -> Path:
    """A small folder with only readable documents (fresh per test)."""
    d = tmp_path / "docs"
    d.mkdir()
    pdfgen.make_guideline_pdf(d / "guideline.pdf")
    shutil.copy(SAMPLE_PDF, d / "protocol.pdf")
    return d


@pytest.fixture(scope="session")
def demo_rag(tmp_path_factory):
    """The bundled sample corpus indexed once, for the answer tests."""
    from ragmed import RagMed

    rag = RagMed(collection="demo", index_dir=tmp_path_factory.mktemp("idx"), max_tokens=96)
    report = rag.ingest([SAMPLE_PDF.parent])
    assert report.ok, report.to_dict()
    return rag


@pytest.fixture(scope="session")
def guideline_index(tmp_path_factory):
    """The 8 real guideline PDFs of ../shared/eval, ingested once per test session."""
    need_eval("guidelines")
    from ragmed import RagMed

    rag = RagMed(collection="guidelines", index_dir=tmp_path_factory.mktemp("gidx"))
    report = rag.ingest(sorted(GUIDELINES.glob("*.pdf")))
    return rag, report


@pytest.fixture(scope="session")
def cross_encoder_dir(tmp_path_factory, embedder):
    """A cross-encoder folder built offline from the bundled MiniLM weights (its head is untrained:
    it proves the wiring of rerankers and verifiers, not their quality)."""
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("minilm-cross-encoder")
    CrossEncoder(str(embedder.path), num_labels=1, device="cpu", local_files_only=True).save(str(d))
    return d
