# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CASE   ?= datasets/april-trojan
OUT    ?= out/april-trojan

.PHONY: demo test lab lint install install-dev clean chromium

# Two `make` runs in one checkout (two `make test` side by side) take turns
# at creating and filling .venv: flock(1) where there is one.
LOCK := $(if $(shell command -v flock 2>/dev/null),flock .venv.lock,)

$(BIN)/python:
	$(LOCK) sh -c '[ -x $(BIN)/python ] || { $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/python -m pip install --quiet --upgrade pip; }'

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(LOCK) $(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(LOCK) $(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $@

# Static charts (PNG/SVG/PDF) are drawn by kaleido in a Chromium browser, and
# Chinese case text needs a CJK font. Installs Debian's packages only when
# missing (sudo unless root); if that fails, static images are skipped with a
# message and everything else still works, so this never stops the build.
CHROMIUM_PACKAGES := $(if $(wildcard /usr/bin/chromium),,chromium) \
	$(if $(shell fc-list :lang=zh 2>/dev/null),,fonts-wqy-microhei)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

chromium:
ifneq ($(strip $(CHROMIUM_PACKAGES)),)
	@echo "installing $(strip $(CHROMIUM_PACKAGES)) for static charts"
	@($(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive \
	  $(SUDO) apt-get install -y $(strip $(CHROMIUM_PACKAGES))) \
	  || echo "warning: could not install $(strip $(CHROMIUM_PACKAGES)); static charts will be skipped"
else
	@echo "chromium: /usr/bin/chromium (static charts enabled)"
endif

install: $(VENV)/.installed | chromium
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/forensics report $(CASE) --out $(OUT)
	@echo "Open $(OUT)/report.html; findings in $(OUT)/findings.json"

test: install-dev | chromium
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

lab: install-dev
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .venv.lock out .pytest_cache

# Speed and memory against DuckDB, pandas and a plain Parquet read (benchmarks/RESULTS.md).
# Cases are generated once under /tmp/bench; SIZES=100k,1m for a quick run.
SIZES ?= 100k,1m,10m
.PHONY: bench
bench: install
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py --sizes $(SIZES)

# A widget change redrawing its chart, on the sample case: median under 300 ms.
.PHONY: bench-ui
bench-ui: install
	$(BIN)/python benchmarks/interactions.py --case $(CASE)

# Accuracy of forensics investigate on generated cases, every scenario x variant
# (docs/ACCURACY.md). SEEDS=1 SIZES=2k for a quick run; JOBS runs in parallel.
SEEDS ?= 5
ASIZES ?= 2k,20k
JOBS ?= 2
.PHONY: accuracy
accuracy: install-dev
	$(BIN)/python benchmarks/accuracy.py --seeds $(SEEDS) --sizes $(ASIZES) --jobs $(JOBS)
