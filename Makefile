# adcorrect: proofs (Coq), exact engine, SMT checks and report.
# Main job: `make all`.  Tests: `make test`.  See README.md.

PYTHON3   ?= python3
VENV      := .venv
PY        := $(VENV)/bin/python
COQ_PKGS  := coq libcoq-flocq libcoq-coquelicot libcoq-interval libcoq-mathcomp-ssreflect
STAMP     := $(VENV)/.installed
SOLVE_TIMEOUT ?= 2
CHALLENGE_TIMEOUT ?= 60
SOLVE_JOBS ?= 2
SOLVE_MEMORY ?= 4096
EXECUTOR ?= local
CROSSCHECK_TIMEOUT ?= 600
SMT_BENCH_ARGS ?=

.PHONY: all setup coq-deps python-deps test check-proofs pytest lint bench smt solve suite \
        compare challenge smtlib smtlib-status study clean

all: setup check-proofs smt solve suite compare

# ---- setup (idempotent) ------------------------------------------------------
setup: coq-deps python-deps

coq-deps:
	@missing=""; for p in $(COQ_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" \
	    || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
	  echo "missing Debian packages; run: sudo apt-get install -y$$missing"; exit 1; \
	fi

python-deps: $(STAMP)

$(STAMP): python/pyproject.toml
	test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip >/dev/null 2>&1 || true
	$(PY) -m pip install -q -e 'python[dev,torch,study]'
	touch $(STAMP)

# ---- tests -------------------------------------------------------------------
test: setup
	@if [ -d coq ]; then $(MAKE) --no-print-directory check-proofs; fi
	$(MAKE) --no-print-directory pytest

pytest: python-deps
	$(PY) -m pytest -q tests

lint: python-deps
	$(PY) -m ruff check python tests bench

check-proofs: coq-deps
	$(MAKE) --no-print-directory -C coq
	$(PYTHON3) coq/check_proofs.py --json report/proof-status.json

# ---- the main job's pieces ---------------------------------------------------
SOLVE_RUN = --jobs $(SOLVE_JOBS) --memory $(SOLVE_MEMORY) --executor $(EXECUTOR)

smt: python-deps
	$(PY) -m adcorrect smt corpus --out smt/generated

# The default corpus: instances some solver decided well inside the limit (see README).
# An interrupted run resumes from its journal (smt/results.json.journal.jsonl).
solve: python-deps
	$(PY) -m adcorrect smt solve-suite --dir smt/generated/default --timeout $(SOLVE_TIMEOUT) $(SOLVE_RUN) --results smt/results.json

# Everything else, with a longer limit; its own section of report/REPORT.md.
challenge: smt
	$(PY) -m adcorrect smt solve-suite --dir smt/generated/challenge --timeout $(CHALLENGE_TIMEOUT) $(SOLVE_RUN) --results smt/results-challenge.json; \
	status=$$?; $(MAKE) --no-print-directory compare; exit $$status

# The SMT-LIB submission tree smtlib/non-incremental/<LOGIC>/<date>-adcorrect/<family>/,
# checked against the benchmark rules (exit 1 on any violation), family descriptions in
# smtlib/descriptions/, then the three solvers one job at a time on a sample of
# SMTLIB_PER_LOGIC files per logic (0: all): smtlib/cactus.png and smtlib/solve-times.md.
# `make smtlib-status` re-runs the solvers on the unknown files and updates the committed
# table python/adcorrect/smt/smtlib_status.json.
SMTLIB_PER_LOGIC ?= 6
SMTLIB_TIMEOUT ?= 20
smtlib: python-deps
	$(PY) -m adcorrect smt smtlib --out smtlib
	$(PY) -m adcorrect.smt.cactus --tree smtlib --timeout $(SMTLIB_TIMEOUT) \
	  --per-logic $(SMTLIB_PER_LOGIC)

smtlib-status: python-deps
	$(PY) -m adcorrect smt smtlib --out smtlib
	$(PY) -m adcorrect.smt.established --tree smtlib --timeout $(SMTLIB_TIMEOUT)

suite: python-deps
	$(PY) -m adcorrect suite --json-out report/counts.json

compare: python-deps
	$(PY) -m adcorrect crosscheck --out report/crosscheck.json --smt-timeout $(CROSSCHECK_TIMEOUT)
	$(PY) -m adcorrect report --out report

# the low-precision study (2 processes, a few minutes): plots and the "Real training"
# section of report/REPORT.md
study: python-deps
	$(PY) -m adcorrect.report.study --out report/study --jobs 2
	$(PY) -m adcorrect report --out report

bench: python-deps
	$(PY) bench/audit_bench.py
	$(PY) bench/bn_audit_bench.py
	$(PY) bench/certified_bench.py
	$(PY) bench/monitor_bench.py
	$(PY) bench/cnn_bench.py
	$(PY) bench/count_bench.py
	$(PY) bench/oracle_bench.py
	$(PY) bench/torch_import_bench.py
	$(PY) bench/smt_bench.py $(SMT_BENCH_ARGS)
	$(PY) bench/allsat_bench.py

clean:
	$(MAKE) -C coq clean
	rm -rf smt/generated smt/results*.json smt/results*.json.journal.jsonl smtlib report build \
	  .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
