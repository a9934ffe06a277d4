# dataproducts — the front door.
#   make run    set up, generate the `small` dataset, build everything on DuckDB, summarize
#   make test   lint + the test suite (DuckDB, a throwaway PostgreSQL server, a local Spark server)
#   make docs   build and serve the dbt docs site on localhost
#   make bench  benchmarks, written to BENCHMARKS.md
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# DATAPRODUCTS_DUCKDB is not set here: unset, dbt (profiles.yml) and the CLI agree on
# warehouse/dataproducts.duckdb; a value that differs between make and the CLI would make
# dbt re-parse the whole project at each switch (its partial parse keys on the profile).

SCALE     ?= small
SEED      ?= 42
# make run's data ends today (so `dbt source freshness` checks fresh data) and has 1% bad
# rows (so the quarantine has something to show); `dataproducts generate` alone: neither.
END_DATE  ?= today
BAD_ROW_RATE ?= 0.01
DOCS_PORT ?= 8080
PYTEST_ARGS ?=

.PHONY: help install run generate build test test-slow lint pytest docs docs-links bench clean postgres-binaries java spark-jars

help:
	@echo "make run    - create .venv, generate the '$(SCALE)' dataset, build (dbt build, validation gate,"
	@echo "              publish a snapshot), scorecards, dbt docs, print a summary"
	@echo "make test   - lint (ruff, sqlfluff) and pytest on DuckDB, PostgreSQL and Spark"
	@echo "make docs   - build and serve the dbt docs site on http://127.0.0.1:$(DOCS_PORT)"
	@echo "make bench  - benchmarks into BENCHMARKS.md"
	@echo "make clean  - remove the warehouse, dbt target/ and logs/"

# The virtualenv, with the exact versions of constraints.txt; redone when either file changes.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the reader, the build side (pipeline extra: dbt, great-expectations, ...; spark extra: dbt-spark, pyspark) and the dev tools into $(VENV) (several minutes the first time)"
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -c constraints.txt -e '.[pipeline,spark,dev]'
	touch $@

# gbstats (GrowthBook's stats engine) is a reference the experiment statistics are tested
# against; it pins numpy<2 and pandas<2, which ours outgrew, and the modules the tests
# import need only numpy, scipy and pydantic: installed without its dependencies.
GBSTATS := $(VENV)/.gbstats-0.8.0
$(GBSTATS): $(STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --no-deps gbstats==0.8.0
	touch $@

install: $(STAMP) $(GBSTATS)

# The jars the Spark Thrift server needs that the pyspark wheel lacks (hive-llap-common:
# see dataproducts_pipeline/spark_server.py), checked by SHA-256, into the virtualenv.
SPARK_JARS := $(VENV)/share/dataproducts/spark-jars/hive-llap-common-2.3.9.jar
$(SPARK_JARS): $(STAMP)
	$(BIN)/python -m dataproducts_pipeline.spark_server --install-jars

spark-jars: $(SPARK_JARS)

generate: install
	$(BIN)/dataproducts generate --scale $(SCALE) --seed $(SEED) --end-date $(END_DATE) \
	  --bad-row-rate $(BAD_ROW_RATE)

# dbt build, then the validation gate, then publish a snapshot (nothing is published
# when a test or an expectation fails), then the docs site.
build: install
	$(BIN)/dataproducts build
	@mkdir -p warehouse/scorecards
	@for e in $$(tail -n +2 seeds/experiments/experiments.csv | cut -d, -f1); do \
	  printf 'experiment scorecard: '; \
	  $(BIN)/dataproducts report experiment $$e --out warehouse/scorecards/$$e.html || exit 1; done
	$(BIN)/dbt docs generate
	@$(MAKE) --no-print-directory docs-links

run: generate build
	@$(BIN)/dataproducts summary
	@echo "The CLI: $(BIN)/dataproducts --help, or 'source $(BIN)/activate' once, then: dataproducts --help"

# dbt parse with --warn-error: a misspelled YAML key, a deprecation or a config path that
# matches nothing fails here instead of being ignored silently.
lint: install
	$(BIN)/ruff check python scripts models
	$(BIN)/ruff format --check python scripts models
	$(BIN)/dbt parse --show-all-deprecations --no-partial-parse --warn-error --quiet \
	  --target lint --target-path target/lint --log-path target/lint/logs
	@# one sqlfluff process per core, each on its share of the files (scripts/lint_sql.py:
	@# sqlfluff's own --processes cannot pickle the statistics models' deep parse trees)
	$(BIN)/python scripts/lint_sql.py

# The PostgreSQL server binaries must be on the machine (the tests start the server
# themselves); install Debian's package when they are missing and we may.
postgres-binaries:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing PostgreSQL server binaries (Debian package postgresql)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else echo "PostgreSQL server binaries not found: install postgresql-15" >&2; exit 1; fi

# Spark (the pyspark wheel) needs a Java runtime, 17 or later; install Debian's headless
# JRE when `java` is missing and we may.
java:
	@if command -v java >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing a Java runtime for Spark (Debian package openjdk-17-jre-headless)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	else echo "java not found: install a Java runtime, 17 or later (e.g. openjdk-17-jre-headless)" >&2; exit 1; fi

# --durations: the slowest tests at the end of the log, to keep `make test` under 30 minutes
pytest: install postgres-binaries java spark-jars
	$(BIN)/pytest -m "not slow" --durations=25 $(PYTEST_ARGS)

test: lint pytest

# Long statistical-validity checks (hundreds of simulated A/A experiments, the
# recommendation evaluation at `small`): outside the default run.
test-slow: install postgres-binaries java spark-jars
	$(BIN)/pytest -m slow $(PYTEST_ARGS)

# The docs overview links to the Data Docs of the validation gate and to the scorecards,
# which live under warehouse/: link them into the site served from target/.
docs-links:
	@mkdir -p target warehouse/data_docs warehouse/scorecards
	@ln -sfn ../warehouse/data_docs target/data_docs
	@ln -sfn ../warehouse/scorecards target/scorecards

docs: install
	$(BIN)/dbt docs generate
	@$(MAKE) --no-print-directory docs-links
	@echo "dbt docs on http://127.0.0.1:$(DOCS_PORT) (Ctrl-C to stop)"
	$(BIN)/dbt docs serve --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

# recommenders (microsoft/recommenders) is the reference SAR implementation the similarity
# benchmark compares against; bench-only, a pure-Python wheel installed without its many deps.
bench: install
	$(BIN)/python -m pip install --quiet --no-deps recommenders==1.2.1
	$(BIN)/python scripts/bench.py

clean:
	rm -rf warehouse target logs
