# Every command the README names. Setup is idempotent: a stamp file records the installed
# state, so a second `make` reinstalls nothing unless pyproject.toml or constraints.txt changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
E2E_STAMP := $(VENV)/.installed-e2e
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))

.PHONY: setup data lab test lint unit numbers nbval book bench clean e2e slides colab-check

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[lab,dev]"
	touch $@

data: $(STAMP)
	$(BIN)/python -m mnistlib.fetch

# JupyterLab refuses to run as root (in a container, say) unless told to.
lab: data
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

test: lint unit numbers nbval

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --exclude "*.ipynb" .

# Two test processes share the two cores, so each gets one thread: PyTorch's default of one
# thread per core makes small tensor operations wait on each other and run many times slower.
# Some tests run a notebook, so the data comes first.
unit: data
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n 2 -W error tests

# Every result a markdown cell states (a percentage, a time, a loss) is printed by a cell above it.
numbers: $(STAMP)
	$(BIN)/python tools/check_numbers.py $(NOTEBOOKS)

nbval: data
	MNISTLIB_QUICK=1 OMP_NUM_THREADS=1 $(BIN)/pytest --nbval-lax --nbval-current-env \
		-p no:python -n 2 --dist loadscope notebooks/

# Execute every notebook top to bottom on the full data and keep the outputs (what is committed):
# no progress bars (their saved text would read 0%; fit prints a summary line instead), no
# per-cell timestamps, and widget ids made stable, so a second run changes only what runs change;
# then the slide types, which depend on the sizes of the outputs.
book: data
	for nb in $(NOTEBOOKS); do \
		echo "== $$nb"; start=$$(date +%s); \
		env -u MNISTLIB_QUICK TQDM_DISABLE=1 $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=1800 --ExecutePreprocessor.store_widget_state=True \
			--ExecutePreprocessor.record_timing=True \
			"$$nb" || exit 1; \
		$(BIN)/python tools/stable_notebook.py "$$nb"; \
		$(BIN)/python tools/slide_metadata.py "$$nb"; \
		echo "   $$(( $$(date +%s) - start )) s"; \
	done

# The extra of the browser test and of presenting live (Playwright, RISE), on top of setup.
$(E2E_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[lab,dev,e2e]"
	touch $@

# A reveal.js slide deck per notebook in build/slides/, from the committed outputs, that works
# offline; first the slide types of every cell are set from its content (tools/).
slides: $(E2E_STAMP)
	$(BIN)/python tools/slide_metadata.py $(NOTEBOOKS)
	$(BIN)/python tools/build_slides.py $(NOTEBOOKS)

# Every notebook run in a real JupyterLab in Chromium, then the decks; screenshots in build/e2e/.
# It changes no committed file: the decks are built from the notebooks as they are.
e2e: data $(E2E_STAMP)
	$(BIN)/python tools/build_slides.py $(NOTEBOOKS)
	$(BIN)/python tests/e2e/run_e2e.py $(NOTEBOOKS)

# The series in Google Colab's runtime (colab-constraints.txt, see the README's Colab section),
# in .venv-colab/ (built once per constraints file, with python3.13 when there is one): mnistlib
# installed the way the notebooks' first cell does, failing if that replaces any package Colab
# ships; then the widgets driven from Python and every notebook executed in quick mode.
colab-check: data
	$(BIN)/python tools/colab_check.py

bench: data
	$(BIN)/python tools/benchmark.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
