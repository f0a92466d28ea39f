# The two commands: `make run` and `make test`. Everything else is optional.
SHELL := /bin/bash
VENV := .venv
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test demo lint fmt bench bench-ingest bench-uploads bench-vision bench-ledger bench-cells bench-render bench-flows bench-startup bench-ocr-photos venv clean

run: ## create .venv, install, start TZZR on the embedded default (SQLite, local blobs)
	@scripts/venv.sh base
	$(VENV)/bin/tzzr serve

test: ## install what the tests need, start PostgreSQL/Redis/S3 on 127.0.0.1, run everything
	@scripts/test.sh

demo: ## the whole pipeline on a fresh data directory, step by step (tzzr demo)
	@scripts/venv.sh base
	$(VENV)/bin/tzzr demo

lint: ## ruff + mypy --strict
	@scripts/venv.sh test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

fmt:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: bench-ingest bench-uploads bench-vision bench-ledger bench-cells bench-render bench-flows bench-startup bench-ocr-photos ## run every benchmark in bench/

bench-ingest:
	@scripts/system-deps.sh bench
	@scripts/venv.sh test
	$(VENV)/bin/python bench/ingest.py

bench-uploads: ## 1 GiB through multipart and tus (local, and S3 on moto_server started here)
	@scripts/system-deps.sh test
	@scripts/venv.sh test
	@bash -c 'source scripts/services.sh && services_start && trap services_stop EXIT && \
		$(VENV)/bin/python bench/uploads.py $(ARGS)'

bench-vision: ## a Loop export imported in bulk vs one by one; habit list and vision tree
	@scripts/venv.sh test
	$(VENV)/bin/python bench/vision_import.py

bench-ledger:
	@scripts/venv.sh test
	$(VENV)/bin/python bench/ledger.py

bench-cells:
	@scripts/system-deps.sh test
	@scripts/venv.sh test
	$(VENV)/bin/python bench/cells.py

bench-ocr-photos: ## OCR on generated phone photos, TZZR against bare Tesseract
	@scripts/system-deps.sh test
	@scripts/venv.sh test
	$(VENV)/bin/python bench/ocr_photos.py

bench-render:
	@scripts/venv.sh test
	$(VENV)/bin/python bench/render.py

bench-flows: ## embedded shape, then scale-out on PostgreSQL, Redis and moto_server started here
	@scripts/system-deps.sh test
	@scripts/venv.sh test
	@bash -c 'source scripts/services.sh && services_start && trap services_stop EXIT && \
		$(VENV)/bin/python bench/flows.py'

bench-startup: ## cold start of tzzr --help and tzzr verify
	@scripts/venv.sh test
	$(VENV)/bin/python bench/startup.py

venv:
	@scripts/venv.sh test

clean:
	rm -rf $(VENV) .venv-tools .mypy_cache .ruff_cache .pytest_cache .hypothesis test-artifacts
