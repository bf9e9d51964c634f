# The two set-up commands of README.md: `make run` (install + main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data

.PHONY: install run test test-slow lint clean

$(BIN)/biorelex: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: 2.13.0 is the local CPU wheel; an unpinned torch pulls CUDA.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,serve,postgres,scale]'
	touch $(BIN)/biorelex

install: $(BIN)/biorelex

# Main job: statistics of every shared corpus, then a bounded ChemProt classifier run
# (train 3000 pairs x 2 epochs, evaluate on 1500 test pairs, print micro-F1; a few minutes).
run: install
	$(BIN)/python benchmarks/corpus_stats.py --data-dir $(DATA) --out benchmarks/corpus_stats.json
	$(BIN)/biorelex train configs/quick.toml -o runs/quick --set "data.data_dir='$(DATA)'"
	$(BIN)/biorelex predict runs/quick/model $(DATA)/chemprot/raw/chemprot_development_abstracts.tsv --candidates chemprot -o runs/quick/chemprot_dev_predicted.bioc.json
	$(BIN)/biorelex train configs/quick_joint.toml -o runs/quick_joint --set "data.data_dir='$(DATA)'"
	$(BIN)/biorelex extract $(DATA)/unlabeled/abstracts_cased.txt --lines --limit 20 -m runs/quick_joint/model -o runs/quick_joint/abstracts_extracted.jsonl

test: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# Real weights (the embedded MiniLM) and longer runs; .ci/run runs them after `make test`.
test-slow: install
	$(BIN)/python -m pytest -q -m slow

lint: install
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
