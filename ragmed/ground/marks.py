"""Citation markers in an answer: [1], [1, 3], [1-3], [1][2] (the grammar, and the numbers cited).
A leaf of ground/: claims.py and citations.py both read markers, and citations.py uses claims.py."""

from __future__ import annotations

import re

_MARK = re.compile(r"\[\s*(\d{1,3}(?:\s*(?:[-\u2013,;]|and)\s*\d{1,3})*)\s*\]")


def cited_numbers(text: str) -> list[int]:
    """Numbers cited in the text, in order of first appearance."""
    seen: list[int] = []
    for m in _MARK.finditer(text):
        for part in re.split(r"\s*(?:,|;|and)\s*", m.group(1)):
            if re.search(r"[-\u2013]", part):
                a, b = (int(x) for x in re.split(r"\s*[-\u2013]\s*", part)[:2])
                nums = range(a, b + 1) if 0 < b - a < 20 else [a, b]
            else:
                nums = [int(part)]
            for n in nums:
                if n not in seen:
                    seen.append(n)
    return seen
