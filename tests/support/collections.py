"""Small calibrated collections written for a test (real MiniLM, Chroma and BM25)."""

from __future__ import annotations

from ragmed import RagMed

# Questions no clinic document answers: the unanswerable half of a test collection's calibration.
OFF_TOPIC = ["How do I renew my passport?", "What is the capital of Australia?", "How is a migraine treated?",
             "What are the side effects of statins?", "How do I fix a flat bicycle tyre?"]


def calibrated(tmp_path_factory, name: str, documents: dict[str, str], answerable: list[str]) -> RagMed:
    """A collection `name` of `documents` ({file name: text}), its gate calibrated on `answerable`
    questions and `OFF_TOPIC`."""
    d = tmp_path_factory.mktemp(name)
    for file, text in documents.items():
        (d / file).write_text(text)
    rag = RagMed(collection=name, index_dir=tmp_path_factory.mktemp(f"{name}-idx"))
    assert rag.ingest([d]).ok
    rag.calibrate(answerable, OFF_TOPIC)
    return rag
