#!/usr/bin/env bash
# Install, build the demo dealership on first run, and start the dashboard on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ANALYTICS_DB="${ANALYTICS_DB:-data/dashboard.duckdb}"
if [ ! -f "$ANALYTICS_DB" ]; then
    echo "Building the demo dealership into $ANALYTICS_DB (first run only: several minutes, most of it fitting the churn and maintenance models)..."
    .venv/bin/python -m analytics demo --db "$ANALYTICS_DB"
fi
exec .venv/bin/streamlit run app.py "$@"
