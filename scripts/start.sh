#!/usr/bin/env bash
# Install, build the demo dealership on first run, and start the dashboard on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ANALYTICS_DB="${ANALYTICS_DB:-data/dashboard.duckdb}"
# No file, or a file without a single work order (an interrupted first run, say): build the demo.
# A file that cannot be read here (another process holds it) is left as it is.
holds_data() {
    [ -f "$ANALYTICS_DB" ] && .venv/bin/python - "$ANALYTICS_DB" <<'PY'
import sys

import duckdb

try:
    con = duckdb.connect(sys.argv[1], read_only=True)
    orders = con.execute("SELECT count(*) FROM service_orders").fetchone()[0]
except duckdb.CatalogException:
    orders = 0
except duckdb.Error:
    orders = 1
sys.exit(0 if orders else 1)
PY
}
if ! holds_data; then
    echo "Building the demo dealership into $ANALYTICS_DB (first run only: several minutes, most of it fitting the churn and maintenance models)..."
    .venv/bin/python -m analytics demo --db "$ANALYTICS_DB"
fi
exec .venv/bin/streamlit run app.py "$@"
