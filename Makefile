# Lakeforge: `make demo` and `make test` set everything up first; both are idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
export LAKEFORGE_WORK ?= $(CURDIR)/.work

.PHONY: help setup venv jars tools services-up services-down cluster-up cluster-down test demo demo-iot demo-recs demo-images bench dist docs docs-serve lock clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: venv jars  ## virtualenv + Spark jars (cached; nothing is downloaded twice)

tools:  ## checkers that do not come from PyPI (actionlint, built with Go)
	@bash scripts/setup/tools.sh

# Python layers each target needs (requirements/<layer>.in); prerequisites inherit them.
LAYERS ?= core
test: LAYERS = core images dev
demo-images bench: LAYERS = core images
docs docs-serve: LAYERS = core dev
venv:
	@bash scripts/setup/venv.sh $(LAYERS)

jars:
	@bash scripts/setup/jars.sh

services-up: setup  ## start the private PostgreSQL, Mosquitto and Kafka on 127.0.0.1 (and the Kafka topics)
	@.venv/bin/lakeforge services up

cluster-up: setup  ## start a Spark standalone master, two workers and the History Server on 127.0.0.1
	@bash scripts/services/spark-cluster.sh up

cluster-down:  ## stop the Spark standalone cluster
	@bash scripts/services/spark-cluster.sh down

services-down:  ## stop the services started by services-up
	@bash scripts/services/kafka.sh down
	@bash scripts/services/mosquitto.sh down
	@bash scripts/services/postgres.sh down

test: setup tools  ## set up and run the whole test suite (starts the services it needs, stops those it started)
	@bash scripts/services/with-services.sh $(PY) -m pytest $(PYTEST_ARGS)

demo: setup  ## set up, generate demo data (once) and run the customer-360 pipeline end to end, then churn training
	@bash scripts/services/with-services.sh bash -c '.venv/bin/lakeforge demo && .venv/bin/lakeforge train churn'

demo-iot: setup  ## IoT: simulator, bridge and streaming job live for about a minute, then per-device windows and alerts (starts and stops the brokers it needs)
	@.venv/bin/lakeforge demo-iot

demo-recs: setup  ## recommendations: train ALS on generated interactions, serve, post a user's events, show the list move (stops the server it started)
	@bash scripts/services/with-services.sh .venv/bin/lakeforge demo-recs

demo-images: setup  ## images: generate -> ingest -> (source pretraining if no weights) -> fine-tune on 2 processes -> batch inference
	@.venv/bin/lakeforge generate images
	@.venv/bin/lakeforge ingest images
	@.venv/bin/lakeforge train images
	@.venv/bin/lakeforge predict images

bench: services-up  ## run the benchmarks; results in bench/results/*.json
	@source scripts/services/env.sh && $(PY) scripts/bench/ingest.py $(BENCH_ARGS)
	@$(PY) scripts/bench/train.py $(TRAIN_BENCH_ARGS)
	@source scripts/services/env.sh && $(PY) scripts/bench/stream.py $(STREAM_BENCH_ARGS)
	@$(PY) scripts/bench/images.py $(IMAGES_BENCH_ARGS)
	@source scripts/services/env.sh && $(PY) scripts/bench/stream_soak.py $(SOAK_BENCH_ARGS)
	@$(PY) scripts/bench/recs.py $(RECS_BENCH_ARGS)
	@$(PY) scripts/bench/monitor.py $(MONITOR_BENCH_ARGS)
	@bash scripts/services/spark-cluster.sh up && $(PY) scripts/bench/cluster.py $(CLUSTER_BENCH_ARGS)

dist: venv  ## build what a cluster job ships: the wheel (--py-files, cluster library) and the packed env (--archives)
	@rm -f dist/lakeforge-*.whl
	@$(PY) -m pip wheel --quiet --no-deps --no-build-isolation -w dist . && ls dist/*.whl
	@cp dist/lakeforge-*.whl dist/lakeforge.zip  # --py-files takes .zip (a wheel is one)
	@bash scripts/setup/pack-env.sh

docs: venv  ## build the documentation site into .work/site (strict: a broken link or a page missing from the nav fails)
	@NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --quiet

docs-serve: venv  ## serve the documentation on http://127.0.0.1:8000, rebuilt on every change
	@NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve --strict --dev-addr 127.0.0.1:8000

lock:  ## re-resolve requirements/{core,images,dev}.in into requirements/constraints.txt
	@bash scripts/setup/lock.sh

clean: services-down  ## remove the work folder (lakehouse, jars, database)
	rm -rf $(LAKEFORGE_WORK)
