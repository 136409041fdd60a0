"""Drug names as people type them: a brand name the documents never use ("Xanax", "Narcan") is
read as the generic name and drug class they do use, and a question naming a drug is covered only
by passages that mention that drug.

Source: the dictionary of the PyPI package drug-named-entity-recognition (Fast Data Science, MIT
licence): about 20,000 drugs with 107,000 names (generic, brand, other spellings) and their MeSH
tree numbers, compiled from MeSH, DrugBank, Wikipedia, the NHS and MedlinePlus and shipped inside
the wheel. Only its data file is read (the package's own module also offers structure and OMOP
look-ups over the network, which are not used), once per process, through a compact JSON copy kept
in ragmed's cache folder (`cache_dir()/drugnames-<version>.json`: reading the packaged file takes
seconds). A hand-made brand list would cover the few brands someone thought of; this one is kept up
by its maintainers.

- **Names** (`Drug`): a typed word (lower case) that the dictionary knows and that is not an
  everyday English word (Zipf < `EVERYDAY`: "caps", "sits" and "marijuana" are dictionary entries)
  names a drug: its generic names, all their other names, and its classes — the MeSH headings of the
  dictionary one or two levels above the drug in the MeSH tree (alprazolam, D03.633.100.079.080.030
  -> benzodiazepines, D03.633.100.079.080).
- **Written out** (`written_out`): a drug word the collection lacks is searched as the first of its
  generic names and classes the collection holds ("xanax" -> "alprazolam, benzodiazepines"); a word
  with none is left as typed (the gate then counts it as absent).
- **The drug is the subject** (`unmentioned`): a question naming a drug is not answered by
  passages about another one ("how much morphine for kidney stone pain" against passages on kidney
  stones that never name morphine): one of the top passages must hold one of the drug's names or
  classes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from ..files import atomic_write_json

EVERYDAY = 4.0  # Zipf: dictionary entries at least this common in English are taken as everyday words
_WORD = re.compile(r"[a-z][a-z0-9-]{2,}")


@dataclass(frozen=True)
class Drug:
    """A drug a typed word names: `generic` names (dictionary order), all `names` (lower case,
    generic, brand and other spellings) and `classes` (MeSH headings above it, nearest first)."""

    word: str
    generic: tuple[str, ...]
    names: frozenset[str]
    classes: tuple[str, ...]


@lru_cache(maxsize=1)
def _table() -> dict:
    """{"variants": {name: [generic, ...]}, "synonyms": {generic: [name, ...]}, "classes":
    {generic: [class, ...]}} from the packaged dictionary (cached as JSON; see the module docstring)."""
    import json
    from importlib import metadata

    from ..config import cache_dir

    try:
        version = metadata.version("drug-named-entity-recognition")
    except metadata.PackageNotFoundError as exc:
        raise RuntimeError("the gate needs the package drug-named-entity-recognition: "
                           "run `pip install drug-named-entity-recognition` (or `make setup`)") from exc
    path = cache_dir() / f"drugnames-{version}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    table = _build()
    try:
        atomic_write_json(path, table)
    except OSError:
        pass  # a read-only cache: built again next time
    return table


def _build() -> dict:
    import bz2
    import pickle
    from importlib import resources

    with bz2.open(resources.files("drug_named_entity_recognition") / "drug_ner_dictionary.pkl.bz2", "rb") as f:
        d = pickle.load(f)  # the package's own data file, as its module reads it
    variants: dict[str, list[str]] = {k.lower(): [c.lower() for c in v] for k, v in d["drug_variant_to_canonical"].items()}
    data = d["drug_canonical_to_data"]
    by_tree = {t: c.lower() for c, dd in sorted(data.items()) for t in (dd.get("mesh_tree") or [])}
    synonyms: dict[str, list[str]] = {}
    for name, gens in sorted(variants.items()):
        for g in gens:
            synonyms.setdefault(g, []).append(name)
    classes = {}
    for c, dd in sorted(data.items()):
        up = []
        for t in dd.get("mesh_tree") or []:
            parts = t.split(".")
            for k in (1, 2):
                parent = by_tree.get(".".join(parts[:-k])) if len(parts) > k else None
                if parent and parent != c.lower() and parent not in up:
                    up.append(parent)
        if up:
            classes[c.lower()] = up
    return {"variants": variants, "synonyms": synonyms, "classes": classes}


def drug(word: str) -> Drug | None:
    """The drug a typed word names (see the module docstring), None when it names none."""
    from .asking import zipf

    w = word.lower()
    gens = _table()["variants"].get(w)
    if not gens or zipf(w) >= EVERYDAY:
        return None
    t = _table()
    names = {w, *gens, *(n for g in gens for n in t["synonyms"].get(g, ()))}
    classes = tuple(dict.fromkeys(c for g in gens for c in t["classes"].get(g, ())))
    return Drug(w, tuple(gens), frozenset(names), classes)


def drugs_in(question: str) -> list[Drug]:
    """The drugs the question names, in order (each once)."""
    out: dict[str, Drug] = {}
    for w in _WORD.findall(question.lower()):
        if w not in out:
            d = drug(w)
            if d is not None and not any(set(d.generic) & set(o.generic) for o in out.values()):
                out[w] = d
    return list(out.values())


def _held(name: str, terms: set[str]) -> bool:
    from ..tokenize import tokenize

    toks = tokenize(name)
    return bool(toks) and all(x in terms for x in toks)


def written_out(question: str, terms: Iterable[str]) -> dict[str, str]:
    """{typed word: the generic names and classes the collection holds, comma-separated} for the
    drug words of the question the collection lacks (`terms`: its index terms)."""
    from ..tokenize import tokenize

    terms = set(terms)
    out = {}
    for d in drugs_in(question):
        if all(x in terms for x in tokenize(d.word)):
            continue
        held = [n for n in (*d.generic, *d.classes) if _held(n, terms)]
        if held:
            out[d.word] = ", ".join(held[:2])
    return out


def unmentioned(question: str, passage_terms: set[str]) -> str:
    """The first drug the question names that none of `passage_terms` (the index terms of the top
    passages) names by any of its names or classes, as typed ("" when none)."""
    for d in drugs_in(question):
        if not any(_held(n, passage_terms) for n in (*d.names, *d.classes)):
            return d.word
    return ""
