"""Every comment's theme kept per data version (issue 20): another month or store choice reads its
themes from ``theme_assignments`` and gets exactly what assigning its window afresh gives."""

import shutil

import pandas as pd
import pytest

from analytics.domain import facts, themes
from analytics.domain.themes import monthly
from analytics.services import views
from analytics.store import db

SIDES = ("praise", "complaint")


def _direct(con, month, side, stores, months_back, k, seed):
    # The window computed each time (not the kept one), so both ways below are computed.
    return monthly.fit_window(
        con, month, side, tuple(sorted(stores)) if stores else None, months_back, k, seed
    )


def _views(con, month, stores):
    out = {}
    for side in SIDES:
        out[side] = themes.monthly_themes(con, month, side, stores)
        out[side + "_comments"] = themes.month_comments(con, month, side, stores)
    out["board"] = themes.themes_by_advisor(con, month, stores)
    return out


def _assert_same(a, b, where):
    for key in a:
        if isinstance(a[key], pd.DataFrame):
            pd.testing.assert_frame_equal(a[key], b[key], obj=f"{where} {key}")
        else:
            assert a[key] == b[key], (where, key)


@pytest.fixture
def demo(demo_db, tmp_path, monkeypatch):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    monkeypatch.setattr(monthly, "_window", _direct)
    con = db.connect(path)
    yield con
    con.close()


def test_kept_themes_read_as_assigning_each_window_afresh(demo, monkeypatch):
    con = demo
    months = sorted(facts.available_months(con))
    opened = themes.model_month(con, months[0])
    key = monthly.scoring_models(con, opened)
    assert not monthly.assignments_current(con, key, monthly.MONTHS_BACK, 8, 0)
    views.prepare(con)
    assert monthly.assignments_current(con, key, monthly.MONTHS_BACK, 8, 0)
    stores = facts.stores(con)
    chosen = [opened, months[months.index(opened) - 3], months[months.index(opened) - 9]]
    kept = {(m, s): _views(con, m, list(s) if s else None) for m in chosen for s in (None, tuple(stores[:1]))}
    with monkeypatch.context() as patch:
        patch.setattr(monthly, "assignments_current", lambda *a: False)
        patch.setattr(monthly, "clauses_current", lambda *a: False)
        patch.setattr(monthly, "complaint_parts_current", lambda *a: False)
        for (month, stores_), got in kept.items():
            _assert_same(got, _views(con, month, list(stores_) if stores_ else None), (month, stores_))
    assert all(kept[(m, None)]["praise"]["themes"] for m in chosen)

    # The table is what those reads used: a theme changed in it shows on the page's figures.
    with db.write_transaction(con) as cur:
        cur.execute(
            "UPDATE theme_assignments SET theme = 'other' WHERE side = 'praise' AND callback_id IN ("
            "SELECT callback_id FROM callbacks WHERE strftime(callback_date, '%Y-%m') = $m)",
            {"m": chosen[1]},
        )
    assert themes.monthly_themes(con, chosen[1], "praise", None) != kept[(chosen[1], None)]["praise"]


def test_kept_themes_of_an_older_data_version_are_never_read(demo, monkeypatch):
    con = demo
    views.prepare(con)
    months = sorted(facts.available_months(con))
    opened = themes.model_month(con, months[0])
    month = months[months.index(opened) - 2]
    before = themes.monthly_themes(con, month, "praise", None)
    with db.write_transaction(con) as cur:
        cur.execute("UPDATE theme_assignments SET theme = 'other'")
        db.bump_data_version(cur)  # what an import or rollback does
    key = monthly.scoring_models(con, opened)
    assert not monthly.assignments_current(con, key, monthly.MONTHS_BACK, 8, 0)
    assert themes.monthly_themes(con, month, "praise", None) == before
    # The refresh after it writes them again, for the new version.
    views.prepare(con)
    assert monthly.assignments_current(con, key, monthly.MONTHS_BACK, 8, 0)
    assert themes.monthly_themes(con, month, "praise", None) == before
    counts = con.execute(
        "SELECT side, count(*) FROM theme_assignments GROUP BY side ORDER BY side"
    ).fetchall()
    praise = len(monthly._facts(con, "side_comments", monthly._side_params(None, "praise", None)))
    assert dict(counts)["praise"] == praise and dict(counts)["complaint"] > 0


def test_satisfied_comments_are_read_clause_by_clause_once_and_again_when_the_themes_files_change(
    demo, monkeypatch
):
    con = demo
    views.prepare(con)
    assert monthly.clauses_current(con)
    texts = monthly._facts(con, "comment_clauses_texts", monthly._side_params(None, "praise", None))
    assert con.execute("SELECT count(*) FROM comment_clauses").fetchone()[0] == len(texts)
    hidden = con.execute("SELECT count(*) FROM comment_clauses WHERE len(complaints) > 0").fetchone()[0]
    assert hidden > 0  # satisfied customers' grumbles exist in the demo
    # Nothing new to read; a text whose reading is gone is read again, and only it.
    with db.write_transaction(con) as cur:
        assert monthly.store_clauses(cur) == 0
        cur.execute(
            "DELETE FROM comment_clauses WHERE comment IN (SELECT comment FROM comment_clauses LIMIT 3)"
        )
        assert monthly.store_clauses(cur) == 3
    months = sorted(facts.available_months(con))
    month = months[-4]
    # The stored readings are what the page shows: a planted reading appears among the hidden complaints.
    with db.write_transaction(con) as cur:
        cur.execute(
            "UPDATE comment_clauses SET complaints = ['停车场太挤了（测试）'], aspects = ['other'] "
            "WHERE comment IN (SELECT comment FROM comment_clauses ORDER BY comment LIMIT 400)"
        )
    planted = themes.monthly_themes(con, month, "complaint", None)["hidden"]
    assert any("停车场太挤了（测试）" in h["quotes"] for h in planted)
    # Other themes files: the readings are stale, never read, and read again in full after an import.
    monkeypatch.setattr(monthly, "_files_digest", lambda names=None: "another digest")
    assert not monthly.clauses_current(con)
    fresh = themes.monthly_themes(con, month, "complaint", None)["hidden"]
    assert not any("停车场太挤了（测试）" in h["quotes"] for h in fresh)
    with db.write_transaction(con) as cur:
        assert monthly.store_clauses(cur) == len(texts)
    assert monthly.clauses_current(con)
    assert themes.monthly_themes(con, month, "complaint", None)["hidden"] == fresh


def test_unsatisfied_comments_are_read_for_what_they_complain_of_once_and_the_complaint_side_reads_it(
    demo, monkeypatch
):
    con = demo
    views.prepare(con)
    assert monthly.complaint_parts_current(con)
    texts = monthly._facts(con, "comment_clauses_texts", monthly._side_params(None, "complaint", None))
    assert con.execute("SELECT count(*) FROM comment_complaint_parts").fetchone()[0] == len(texts)
    # Some comments praise beside their complaint (师傅很热情，但是等了三个小时): only what they
    # complain of is kept, tokenised; the others are NULL (the comment is what it complains of).
    mixed = con.execute(
        "SELECT comment, tokens FROM comment_complaint_parts WHERE tokens IS NOT NULL"
    ).fetchall()
    assert 0 < len(mixed) < len(texts)
    for comment, tokens in mixed[:20]:
        assert tokens.split() == themes.tokenize([themes.complaint_quote(comment)])[0]
    with db.write_transaction(con) as cur:
        assert themes.store_complaint_parts(cur) == 0
        cur.execute(
            "DELETE FROM comment_complaint_parts WHERE comment IN (SELECT comment FROM comment_complaint_parts LIMIT 3)"
        )
        assert themes.store_complaint_parts(cur) == 3
    months = sorted(facts.available_months(con))
    frame = monthly._facts(con, "side_comments", monthly._side_params(months[-4:], "complaint", None))
    before = monthly._tokens(con, frame, "complaint")
    # What the complaint side reads: every comment planted as one that complains of the lounge.
    with db.write_transaction(con) as cur:
        cur.execute("UPDATE comment_complaint_parts SET tokens = '休息室 太 吵'")
    planted = monthly._tokens(con, frame, "complaint")
    assert planted[0] == [["休息室", "太", "吵"]] * len(frame)
    # Other themes files: the stored parts are stale and never read; read afresh, they are what was stored.
    monkeypatch.setattr(monthly, "_files_digest", lambda names=None: "another digest")
    assert not monthly.complaint_parts_current(con)
    assert monthly._tokens(con, frame, "complaint") == before
    assert len(frame) > 0


def test_whether_an_unsatisfied_comment_only_praises_is_stored_and_the_assignments_read_it(demo, monkeypatch):
    """A month's refresh assigns every comment again under the new month's model; on the complaint
    side each unsatisfied comment was read clause by clause again to tell whether it only praises
    (20 s of the 30 s at a million work orders). The reading is stored with the comment's parts."""
    con = demo
    views.prepare(con)
    stored = dict(con.execute("SELECT comment, praise_only FROM comment_complaint_parts").fetchall())
    texts = list(stored)
    assert 0 < sum(stored.values()) < len(texts)  # some only praise (师傅很热情), most do not
    assert [stored[t] for t in texts] == monthly.praise_only(texts).tolist()
    before = con.execute(
        "SELECT callback_id, theme FROM theme_assignments WHERE side = 'complaint' ORDER BY callback_id"
    ).fetchall()

    # Assigned again under another model (as after a month's import): no comment is read clause by clause.
    def no_reading(comments):
        if len(comments):
            raise AssertionError("read clause by clause although the stored flags are current")
        return monthly.np.zeros(0, dtype=bool)

    monkeypatch.setattr(monthly, "praise_only", no_reading)
    with db.write_transaction(con) as cur:
        cur.execute("DROP TABLE theme_assignments")
        monthly.store_assignments(cur)
    again = con.execute(
        "SELECT callback_id, theme FROM theme_assignments WHERE side = 'complaint' ORDER BY callback_id"
    ).fetchall()
    assert again == before
    # A planted flag is what the assignments count: every comment with a theme becomes praise only.
    with db.write_transaction(con) as cur:
        cur.execute("UPDATE comment_complaint_parts SET praise_only = true")
        cur.execute("DROP TABLE theme_assignments")
        monthly.store_assignments(cur)
    themed = con.execute(
        "SELECT DISTINCT theme FROM theme_assignments WHERE side = 'complaint' AND theme <> $none",
        {"none": monthly.NONE},
    ).fetchall()
    assert themed == [(monthly.PRAISE_ONLY,)]
