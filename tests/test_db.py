from analytics.store import db


def test_connect_creates_schema_and_migrations_are_idempotent(tmp_path):
    path = tmp_path / "x.duckdb"
    con = db.connect(path)
    assert db.schema_version(con) == db.SCHEMA_VERSION
    assert db.migrate(con) == db.SCHEMA_VERSION
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"service_orders", "callbacks", "imports", "rejected_rows", "vehicles"} <= tables
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name='service_orders' ORDER BY ordinal_position"
        ).fetchall()
    ]
    assert cols == [*db.SERVICE_COLUMNS, "import_id"]
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name='callbacks' ORDER BY ordinal_position"
        ).fetchall()
    ]
    assert cols == [*db.CALLBACK_COLUMNS, "import_id"]
    con.close()
    con = db.connect(path)
    assert db.data_version(con) == 0
    con.close()


def test_data_version_bumps(tmp_path):
    con = db.connect(tmp_path / "x.duckdb")
    assert db.bump_data_version(con) == 1
    assert db.data_version(con) == 1
