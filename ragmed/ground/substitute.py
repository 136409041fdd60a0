"""An elliptical follow-up that names another drug asks the same question of that drug.

    "What is the starting dose of amlodipine?" then "and for ramipril?"
    -> "What is the starting dose of ramipril?"   (not "... of amlodipine for ramipril?")

retrieve/followup.py resolves an elliptical follow-up by appending its words to the earlier
question, which keeps the earlier drug in the query: retrieval and the gate then judge passages
about amlodipine (a newcomer saw "Start amlodipine 5 mg" as the first evidence line). When the
follow-up names a drug (ground/cues.py's drug lexicon and name endings) and the earlier question
named exactly one other drug, the earlier drug is replaced instead.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .cues import analyse


def drugs(text: str) -> list[str]:
    """The drugs a text names, as written, in order, each once."""
    out: list[str] = []
    for c in analyse(text).cues:
        if c.family == "drug" and c.word not in out:
            out.append(c.word)
    return out


def substituted(resolution):
    """`resolution` (retrieve/followup.py `Resolution`) with the earlier drug replaced by the
    follow-up's, for an elliptical follow-up that names other drugs; else unchanged."""
    if getattr(resolution, "kind", "") != "elliptical" or not resolution.carried:
        return resolution
    new, old = drugs(resolution.question), drugs(resolution.carried)
    if not new or len(old) != 1 or set(new) & set(old):
        return resolution
    base = resolution.carried.rstrip(" ?.!")
    query = re.sub(rf"\b{re.escape(old[0])}\b", " and ".join(new), base, count=1, flags=re.I)
    return replace(resolution, query=f"{query}?")
