.PHONY: run test bench lint
# Set up the virtual environment and start the app on the bundled real data (http://127.0.0.1:8050).
run:
	bash scripts/setup.sh && .venv/bin/python app.py
# Set up and run the whole test suite.
test:
	bash scripts/test.sh
# Print benchmark figures.
bench:
	bash scripts/setup.sh --dev && .venv/bin/python -m pytest tests/benchmarks -s -p no:cacheprovider
lint:
	.venv/bin/python -m ruff check . && .venv/bin/python -m ruff format --check . && .venv/bin/python -m mypy core
