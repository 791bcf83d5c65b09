# make lab / make test / make test-oldest / make bench / make lint / make typecheck: each target
# is self-sufficient.
# It creates .venv if missing and installs what it needs; a stamp file inside
# .venv makes reinstalling happen only when pyproject.toml changes.
#
#   PROPLAB_NO_TORCH=1 make test    skip installing torch (its tests are skipped)
#   TORCH_PIP_FLAGS="..." make test extra pip flags for the torch install
#   make lab LAB_ARGS="--epochs 5000"

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_VERSION := 2.13.0
TORCH_PIP_FLAGS ?=
LAB_ARGS ?=
DEV_STAMP := $(VENV)/.proplab-dev.stamp
TYPECHECK_STAMP := $(VENV)/.proplab-typecheck.stamp
TORCH_STAMP := $(VENV)/.proplab-torch-$(TORCH_VERSION).stamp

ifeq ($(PROPLAB_NO_TORCH),1)
TORCH_DEP :=
else
TORCH_DEP := $(TORCH_STAMP)
endif

.PHONY: lab test test-oldest bench lint typecheck venv

lab: $(DEV_STAMP)
	$(BIN)/proplab lab $(LAB_ARGS)

test: $(DEV_STAMP) $(TORCH_DEP)
	$(BIN)/python -m pytest -q

# the suite at the oldest releases pyproject.toml accepts (constraints-oldest.txt), in a
# venv of its own, without torch
OLDEST := .venv-oldest
test-oldest:
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install -c constraints-oldest.txt -e '.[dev]'
	$(OLDEST)/bin/python -m pytest -q

bench: $(DEV_STAMP) $(TORCH_DEP)
	$(BIN)/python benchmarks/run_all.py

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy (pinned in pyproject's typecheck extra) on the whole package; [tool.mypy] in
# pyproject.toml holds the settings
typecheck: $(TYPECHECK_STAMP)
	$(BIN)/mypy

venv: $(DEV_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

$(TYPECHECK_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[typecheck]'
	touch $@

$(TORCH_STAMP): | $(BIN)/python
	$(BIN)/python -m pip install torch==$(TORCH_VERSION) $(TORCH_PIP_FLAGS)
	touch $@
