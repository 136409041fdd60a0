"""An elliptical follow-up that names another drug asks the same question of that drug.

    "What is the starting dose of amlodipine?" then "and for ramipril?"
    -> "What is the starting dose of ramipril?"   (not "... of amlodipine for ramipril?")

retrieve/followup.py resolves an elliptical follow-up by appending its words to the earlier
question, which keeps the earlier drug in the query: retrieval and the gate then judge passages
about amlodipine (a newcomer saw "Start amlodipine 5 mg" as the first evidence line). When the
follow-up names a drug (ground/drugnames.py: the dictionary the gate reads brand names with) and the
earlier question named exactly one other drug, the earlier drug is replaced instead.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .drugnames import drugs_in


def drugs(text: str) -> list[str]:
    """The drugs a text names (lower case, in order, each once)."""
    return [d.word for d in drugs_in(text)]


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
