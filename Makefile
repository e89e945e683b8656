# Two commands on a fresh machine: `make run` (the app on its offline voices) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# MLX (mlx-audio) cannot share .venv with qwen-tts (transformers 5 against 4.57): its own environment.
MLX_VENV ?= .venv-mlx
MLX_BIN  := $(MLX_VENV)/bin

.PHONY: run test test-mlx lint bench clean engines

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Timbre needs Python 3.11 or newer; run: make PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	$(BIN)/timbre setup
	@touch $@

# torch and a torchaudio that loads come first, so that pip never resolves torch itself
# (on Linux that would pull gigabytes of CUDA); see packaging/install_torch.py.
$(VENV)/.installed-torch: packaging/install_torch.py | $(BIN)/python
	$(BIN)/python packaging/install_torch.py
	@touch $@

engines: $(VENV)/.installed $(VENV)/.installed-torch
	$(PIP) install --quiet -e '.[engines]'

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed $(VENV)/.installed-torch
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

run: $(VENV)/.installed
	$(BIN)/timbre gui

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests benchmarks packaging setup_py2app.py
	$(BIN)/ruff format --check app tests benchmarks packaging setup_py2app.py

test: lint $(MLX_VENV)/.installed
	$(BIN)/python -m pytest
	$(MLX_BIN)/python -m pytest tests/engines/mlx

# Only the MLX engine tests, in their environment (on Linux with MLX's CPU build).
test-mlx: $(MLX_VENV)/.installed $(VENV)/.installed-dev
	$(MLX_BIN)/python -m pytest tests/engines/mlx

$(MLX_BIN)/python:
	$(PYTHON) -m venv $(MLX_VENV)
	$(MLX_BIN)/python -m pip install --quiet --upgrade pip

$(MLX_VENV)/.installed: pyproject.toml packaging/requirements-mlx.txt | $(MLX_BIN)/python
	$(MLX_BIN)/python -m pip install --quiet -e . --no-deps
	$(MLX_BIN)/python -m pip install --quiet -r packaging/requirements-mlx.txt
	@touch $@

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/streaming.py --json
	$(BIN)/python benchmarks/library.py --json
	$(BIN)/python benchmarks/export.py --json
	$(BIN)/python benchmarks/voices.py --json
	$(BIN)/python benchmarks/app.py --json
	$(BIN)/python benchmarks/engines.py --json
	$(BIN)/python benchmarks/narrate.py --json

clean:
	rm -rf $(VENV) $(MLX_VENV) .pytest_cache .ruff_cache

# Linux: a menu launcher for this checkout (~/.local/share/applications/timbre.desktop and its icon),
# starting $(BIN)/timbre gui.
.PHONY: desktop
desktop: $(VENV)/.installed
	$(BIN)/python packaging/linux/install_desktop.py
