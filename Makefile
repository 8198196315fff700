# cnnlab: `make run` executes every notebook (full mode), `make test` runs all tests.
# Both create the virtual environment .venv on demand; nothing else is needed.

PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: run test lint quick report bench kernel clean python-version

python-version:
	@$(PY) -c 'import sys; v = sys.version_info; sys.exit(0) if v >= (3, 10) else sys.exit("cnnlab needs Python >= 3.10, but $(PY) is %d.%d; run e.g. make PY=python3.11 ..." % v[:2])'

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml | python-version
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(PY) -m venv --clear $(VENV)  # new or half-made venv
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)  ## execute every notebook in place, full mode (cached weights are reused)
	$(BIN)/python -m cnnlab.runner $(NOTEBOOKS)

test: $(STAMP)  ## unit tests, then every notebook in quick mode (executed copies in a temp dir)
	$(BIN)/python -m pytest

lint: $(STAMP)  ## ruff over the package, tests and benchmarks
	$(BIN)/ruff check src tests benchmarks

kernel: $(STAMP)  ## register .venv as the Jupyter kernel "cnnlab" (for your own Jupyter)
	$(BIN)/python -m ipykernel install --user --name cnnlab --display-name "Python (cnnlab)"

quick: $(STAMP)  ## every notebook in quick mode into build/quick, with a timing table
	$(BIN)/python -m cnnlab.runner --quick --out build/quick $(NOTEBOOKS)

report: $(STAMP)  ## no execution: results/SUMMARY.md + README table from results/*.json, HTML of each notebook and report/index.html
	$(BIN)/python -m cnnlab.summary
	$(BIN)/jupyter nbconvert --log-level WARN --to html --output-dir report $(NOTEBOOKS)
	$(BIN)/python -m cnnlab.report --out report $(NOTEBOOKS)

bench: $(STAMP)  ## performance ratios measured side by side
	@for f in benchmarks/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:  ## remove scratch output (keeps .venv, data caches and committed weights)
	rm -rf build report weights/quick results/quick .pytest_cache
