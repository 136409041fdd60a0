"""Helpers shared by the tests (and the fuzz benchmark): generated PDFs, hostile files, a local hub
stub, `ragmed serve` processes, and network helpers. Importable as `support.<module>` because
tests/conftest.py puts tests/ on sys.path."""
