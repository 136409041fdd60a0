"""Evaluation: retrieval quality on BEIR-format judgements (`ragmed eval retrieval`)."""
