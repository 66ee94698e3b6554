# make demo: install into .venv, migrate, load the demo data, serve on http://127.0.0.1:8000/
# make test: the full test suite (PostgreSQL + Redis when DATABASE_URL / REDIS_URL are set, else SQLite)
# make bench: the performance benchmarks in bench/ (need DATABASE_URL pointing at PostgreSQL)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TEST_PROCESSES ?= auto

.PHONY: demo test bench fuzz install lint format clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo
	bash scripts/serve.sh

# In parallel (pytest-xdist): tests that start workers, benchmarks or a browser run one group at a time beside the rest.
test: install
	$(VENV)/bin/pytest --ds=config.settings.test -n $(TEST_PROCESSES) --dist loadgroup

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
# bandit warns "nosec encountered ... but no failed test" for every node around a justified `# nosec`;
# its log is shown only when it finds something.
	$(VENV)/bin/bandit -q -c pyproject.toml -r . 2>$(VENV)/bandit.log || { cat $(VENV)/bandit.log; exit 1; }
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The API fuzzing of `make test`, big: FUZZ_EXAMPLES examples per operation and mode (positive and negative), and
# longer stateful scenarios; on PostgreSQL when DATABASE_URL is set.
FUZZ_EXAMPLES ?= 200
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(VENV)/bin/pytest --ds=config.settings.test -n $(TEST_PROCESSES) tests/test_api_fuzz.py

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) db.sqlite3 media .test-media staticfiles .bench-static
