.PHONY: test lint format bench docs docs-check

test:
	python -m pytest

lint:
	ruff check src tests bench
	ruff format --check src tests bench

format:
	ruff format src tests bench
	ruff check --fix src tests bench

bench:
	python bench/bench_ingest.py --claim-lines 1000000

docs:
	payvider schema --markdown > docs/schema.md

docs-check:
	python -m pytest tests/schema/test_schema.py -q
