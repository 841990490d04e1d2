#!/usr/bin/env bash
# Install everything the tests need, then lint, type-check and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
# Browser tests drive Debian's Chromium and need CJK fonts; install them when missing and allowed.
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
    else
        echo "note: chromium/fonts-noto-cjk missing and cannot be installed here; browser tests will be skipped" >&2
    fi
fi
# The Spark equality test (tests/test_warehouse_spark.py, issue 22) runs pyspark, which needs a Java
# runtime: Debian's headless JRE 17, installed when missing and allowed.
if ! command -v java >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
    else
        echo "note: java missing and cannot be installed here; the Spark test will be skipped" >&2
    fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
# The test files are shared out between one worker process per core, at most four (pytest-xdist); a file's
# tests stay together in one worker, so its module fixtures are built once. Arguments after
# scripts/test.sh go to pytest (-n 0 runs everything in one process).
.venv/bin/python -m pytest -n auto --maxprocesses 4 --dist loadfile "$@"
