"""A collection's vocabulary (its BM25 terms and how many chunks hold each), from a lexical snapshot:
shared by the abstention gate (ground/gate.py) and the question as searched again (ground/searched.py),
which the gate imports, so it lives in a module of its own."""

from __future__ import annotations

from . import asking

_VOCAB: dict[str, asking.Vocabulary] = {}


def vocabulary_of(snapshot) -> asking.Vocabulary:
    """The collection's vocabulary from a lexical snapshot (cached per snapshot stamp)."""
    v = _VOCAB.get(snapshot.stamp)
    if v is None:
        bm25 = getattr(snapshot, "bm25", None)
        v = asking.Vocabulary(frozenset(bm25.vocab_dict) if bm25 is not None else frozenset(), df=_df(bm25))
        _VOCAB.clear()
        _VOCAB[snapshot.stamp] = v
    return v


def _df(bm25):
    """term -> in how many chunks it occurs, from a bm25s index (None without one)."""
    if bm25 is None or not isinstance(getattr(bm25, "scores", None), dict) or "indptr" not in bm25.scores:
        return None
    indptr, ids = bm25.scores["indptr"], bm25.vocab_dict
    return lambda t: int(indptr[ids[t] + 1] - indptr[ids[t]]) if t in ids else 0
