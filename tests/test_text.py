from ragmed.ingest.structure import SectionIndex, detect_headings, markdown_headings
from ragmed.ingest.text import dehyphenate, normalize, strip_running_lines
from ragmed.types import Heading


def test_normalize_ligatures_and_invisibles():
    assert normalize("e\ufb03cacy of \ufb01rst-line") == "efficacy of first-line"
    assert normalize("dose\u00ad adjust\u200bment") == "dose adjustment"
    assert normalize("a  \t b\r\nc\n\n\n\nd") == "a b\nc\n\nd"
    assert normalize("\uff15\u3000mg") == "5 mg"  # full-width digits and space


def test_running_headers_and_page_numbers_are_dropped():
    pages = [f"Clinic Protocol 2024\nBody text of page {i} about dosing.\nDose {i * 5} mg is reviewed weekly.\nPage {i} of 6" for i in range(1, 7)]
    cleaned, removed = strip_running_lines(pages)
    assert removed == 12
    assert all("Clinic Protocol" not in p and "of 6" not in p for p in cleaned)
    assert "Body text of page 3 about dosing." in cleaned[2]


def test_alternating_headers_are_dropped_but_body_kept():
    pages = []
    for i in range(1, 13):
        head = f"{i} MMWR / Vol. 71" if i % 2 == 0 else f"Recommendations and Reports {i}"
        pages.append(f"{head}\nUnique sentence number {i} on this page.\nAnother line {i * 7}.")
    cleaned, _ = strip_running_lines(pages)
    assert not any("MMWR" in p or "Recommendations and Reports" in p for p in cleaned)
    assert all(f"Unique sentence number {i}" in cleaned[i - 1] for i in range(1, 13))


def test_short_documents_keep_repeated_lines():
    pages = ["Title\nText one.", "Title\nText two."]
    assert strip_running_lines(pages) == (pages, 0)


def test_dehyphenation_uses_the_documents_own_spelling():
    pages = [
        "Start treat-\nment early. A long-\nterm plan and long-term care.\nSelf-\nCare matters.",
        "treatment works",
    ]
    out = dehyphenate(pages)
    assert "treatment\nearly" in out[0]
    assert "long-term\nplan" in out[0]  # "long-term" appears with its hyphen elsewhere
    assert "Self-Care" in out[0]  # next part capitalised: keep the hyphen


def test_detected_headings_are_conservative():
    text = "2.1 Vital signs\nMeasure the temperature.\n1. give fluids\nTREATMENT\n3 Amlodipine 5 mg 10 mg 20 mg\nA sentence ends here."
    titles = [h.title for h in detect_headings(text)]
    assert titles == ["2.1 Vital signs", "TREATMENT"]
    assert detect_headings("2.1 Vital signs")[0].level == 1


def test_markdown_headings_and_section_paths():
    text = "# Title\nintro\n## A\ntext a\n### A1\ntext a1\n## B\ntext b"
    hs = markdown_headings(text)
    idx = SectionIndex(hs)
    assert idx.path_at(text.index("text a1")) == ("Title", "A", "A1")
    assert idx.path_at(text.index("text b")) == ("Title", "B")
    assert SectionIndex([Heading("X", 0, 10, "detected")]).path_at(5) == ()
