import pytest

from analytics import db
from tests import fixtures_kpi


@pytest.fixture(scope="session")
def kpi_db_path(tmp_path_factory):
    """The hand-built KPI fixture as a DuckDB file, built once per session and then closed."""
    path = tmp_path_factory.mktemp("kpi") / "kpi.duckdb"
    con = db.connect(path)
    fixtures_kpi.load(con)
    db.refresh_derived(con)
    con.close()
    return path


@pytest.fixture(scope="session")
def kpi_con(kpi_db_path):
    """A read-only connection to the KPI fixture."""
    con = db.connect(kpi_db_path, read_only=True)
    yield con
    con.close()
