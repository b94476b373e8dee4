# Two commands on a fresh machine:
#   make demo   – create .venv, install, track the bundled sample video (outputs in runs/track/demo*)
#   make test   – create/reuse .venv, install with test extras, set up the system packages the tests
#                 need (tools/install_test_deps.sh: as root it installs what is missing, otherwise
#                 it prints the one command that does and stops), run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= $(abspath ../shared)
export TRACKER_WEIGHTS_DIR ?= $(SHARED)/models
export OMP_NUM_THREADS ?= 2

.PHONY: demo test test-deps install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/track sample_videos/crossing.mp4 --detections sample_videos/crossing_det.txt --name demo --trails 20
	@echo "outputs: the newest runs/track/demo* folder (annotated video, tracks.csv, tracks.txt, summary.json)"

test-deps:
	bash tools/install_test_deps.sh

test: test-deps install
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) runs .pytest_cache
