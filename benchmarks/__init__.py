"""Benchmarks (not tests). Run each from the project root as a module, `python -m benchmarks.NAME`
(the Makefile's `make bench-*` targets do), so `benchmarks._common` and `tests.support` import
without changes to sys.path."""
