# Set-up and the two everyday commands. `make test` and `make run` work on a fresh clone:
# they create .venv with the pinned versions of constraints.txt (CPU torch) on first use.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run demo test quick lint bench bundle bundle-check clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11+ is needed")'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

run: $(STAMP)
	$(VENV)/bin/python -m studio $(ARGS)

demo: $(STAMP)
	$(VENV)/bin/python -m engine.render assets/demo/Demo.zoetrope --out demo.mp4 --overwrite

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m pytest -q $(ARGS)

quick: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m pytest -q -m "not slow" $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(VENV)/bin/python bench/train_throughput.py --compile --mnist ../shared/data/mnist $(ARGS)

# The desktop bundle (packaging/README.md): dist/zoetrope/, then started and checked as a user would.
bundle: $(STAMP)
	VENV=$(VENV) sh packaging/build.sh

bundle-check:
	sh packaging/check.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info build dist
