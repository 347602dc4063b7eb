# Each target sets up .venv first (python -m venv .venv && .venv/bin/pip install -e ".[dev]"), so
# `make train` and `make test` work as the first command on a fresh clone.
SHELL  := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup train test readme docs export clean-nbs

$(STAMP): settings.ini setup.py
	$(PYTHON) -m venv $(VENV) && $(BIN)/pip install -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

## The main job: train on the embedded default (SynthCity in the CVUSA layout) and print the recall table
train: setup
	$(BIN)/crossview_train --task toker2021 --model toker2021 --dataset cvusa --preset cpu

## The test suite: every notebook's tests (flagged cells skipped), then a one-line summary
test: setup
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/nbdev_test --n_workers 2 2>&1 | tee .test.log; status=$${PIPESTATUS[0]}; \
	$(BIN)/python .ci/summary.py .test.log nbs; exit $$status

readme: setup
	$(BIN)/crossview_readme

docs: setup
	$(BIN)/crossview_docs

export: setup
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean
