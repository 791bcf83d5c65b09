# make lab / make test / make test-oldest / make bench / make lint / make typecheck: each target
# is self-sufficient (a bare `make` is `make lab`; `make help` lists them, `make clean`
# deletes the venvs).
# It creates .venv if missing and installs what it needs; a stamp file inside
# .venv makes reinstalling happen only when pyproject.toml changes.
#
#   PROPLAB_NO_TORCH=1 make test    skip installing torch (its tests are skipped when
#                                   torch is not installed)
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

.PHONY: lab test test-oldest bench lint typecheck venv help clean
.DEFAULT_GOAL := lab

# Python 3.11/3.12 read the editable install's .pth file in the locale's encoding: under
# LC_ALL=C a clone whose path has non-ASCII letters stopped every .venv command at start-up
# (env24 L1). The C locale's UTF-8 twin reads it.
ifneq ($(filter C POSIX,$(LC_ALL)),)
export LC_ALL := C.UTF-8
endif

# proplab needs Python 3.11+ (pyproject's requires-python). Checked before any venv or
# download: Python 3.10's pip resolves every dependency before it reads requires-python and
# spent minutes backtracking through numpy's releases (pypa/pip#13146; env24 M1). $(1): the
# interpreter, $(2): what to do about it.
# (no f-string: a python2 must get the line too)
python_check = import sys; sys.exit("proplab needs Python 3.11 or newer; $(1) is " + sys.version.split()[0] + ": $(2)" if sys.version_info < (3, 11) else 0)
NEW_PYTHON_HINT := run make again with PYTHON=python3.11 (or newer)
OLD_VENV_HINT := .venv was made with it; run make clean, then make again with PYTHON=python3.11 (or newer)

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

help:
	@echo "make lab          set up .venv, train the lab's model, run the lab suite, write runs/lab/report.md (the default)"
	@echo "make test         set up .venv (and torch $(TORCH_VERSION) unless PROPLAB_NO_TORCH=1), run the tests"
	@echo "make bench        speed against reference loops and PyTorch (benchmarks/RESULTS.md)"
	@echo "make lint         ruff check and ruff format --check"
	@echo "make typecheck    mypy on the whole package"
	@echo "make test-oldest  the tests at the oldest releases proplab accepts, in .venv-oldest"
	@echo "make venv         only set up .venv"
	@echo "make clean        delete .venv and .venv-oldest (runs/ and your results are kept)"
	@echo "Options: PYTHON=python3.12 make lab, make lab LAB_ARGS=\"--epochs 5000\", PROPLAB_NO_TORCH=1 make test"

# the venvs only: runs/ holds a student's results, which no make target should delete
clean:
	rm -rf $(VENV) $(OLDEST)

# --clear: a venv whose interpreter was removed or upgraded away leaves a dangling
# .venv/bin/python, which a plain `venv` does not replace (env24 L5)
$(BIN)/python:
	@$(PYTHON) -c '$(call python_check,$(PYTHON),$(NEW_PYTHON_HINT))'
	$(PYTHON) -m venv --clear $(VENV)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	@$(BIN)/python -c '$(call python_check,$(BIN)/python,$(OLD_VENV_HINT))'
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

$(TYPECHECK_STAMP): pyproject.toml | $(BIN)/python
	@$(BIN)/python -c '$(call python_check,$(BIN)/python,$(OLD_VENV_HINT))'
	$(BIN)/python -m pip install -e '.[typecheck]'
	touch $@

$(TORCH_STAMP): | $(BIN)/python
	@$(BIN)/python -c '$(call python_check,$(BIN)/python,$(OLD_VENV_HINT))'
	$(BIN)/python -m pip install torch==$(TORCH_VERSION) $(TORCH_PIP_FLAGS)
	touch $@
