import itertools
import pickle
import random
from datetime import datetime

import pandas as pd
import pytest

from analytics import cli
from analytics.core.errors import UserError
from analytics.domain import themes
from analytics.domain.themes import segmentation
from analytics.store import db

EVAL_CSV = "tests/data/themes_eval.csv"


def test_tokenize_keeps_domain_words_whole_and_drops_punctuation():
    assert themes.tokenize(["首保做完了，服务顾问很专业！", "钣喷的工时费太贵", "", None]) == [
        ["首保", "做", "完", "了", "服务顾问", "很", "专业"],
        ["钣喷", "的", "工时费", "太贵"],
        [],
        [],
    ]


def test_tokenizer_start_up_prints_nothing(capfd, monkeypatch):
    monkeypatch.setattr(segmentation, "_tokenizer", None)
    themes.tokenize(["洗车很干净"])
    assert capfd.readouterr().err == ""


def test_a_text_segmented_again_is_looked_up_and_gives_the_same_tokens(monkeypatch):
    """The refresh segments a month's comments for their stored tokens, then reads the satisfied
    ones clause by clause: the second time, the tokens are looked up, equal to a fresh segmentation,
    each caller's list its own; another tokenizer (a changed dictionary) segments afresh."""
    texts = ["首保做完了，服务顾问很专业", "钣喷的工时费太贵", "洗车很干净"]
    segmentation.forget_segmented()
    fresh = themes.tokenize(texts)
    tk = segmentation._jieba()
    cuts: list[str] = []
    real_lcut = tk.lcut
    monkeypatch.setattr(tk, "lcut", lambda text, *a, **kw: cuts.append(text) or real_lcut(text, *a, **kw))
    again = themes.tokenize(texts)
    assert again == fresh and cuts == []
    again[0].append("改")  # the caller's list, not the one held
    assert themes.tokenize(texts[:1]) == fresh[:1] and cuts == []
    assert themes.tokenize(["客休室很舒服"]) and cuts == ["客休室很舒服"]
    # A tokenizer built anew (another dictionary) does not read what the last one segmented.
    monkeypatch.setattr(segmentation, "_tokenizer", None)
    assert themes.tokenize(texts) == fresh and segmentation._jieba() is not tk
    assert set(segmentation._segmented) == set(texts)
    # Full: emptied, never larger than it may be.
    monkeypatch.setattr(segmentation, "SEGMENTED_KEPT", 2)
    themes.tokenize(["一", "二", "三"])
    assert len(segmentation._segmented) <= 2


def test_domain_dictionary_holds_at_least_150_words():
    words = segmentation._word_lines(themes.DOMAIN_DICT)
    assert len(words) >= 150
    assert {"首保", "定保", "钣喷", "工时费", "配件费", "服务顾问", "客休室", "取送车", "四轮定位"} <= set(
        words
    )


HAND_EXAMPLES = {
    "接待的小姑娘很热情": "attitude",
    "前台爱答不理的": "attitude",
    "等了三个小时才弄好": "efficiency",
    "半小时就做完了，速度很快": "efficiency",
    "刹车异响修了两次还是没修好": "repair_quality",
    "工时费太贵了": "price",
    "收费透明，明码标价": "price",
    "车洗得很干净": "car_wash",
    "休息室很舒服": "lounge",
    "中午的盒饭很好吃": "meals",
    "预约了还要排队": "appointment",
    "回访电话太多了": "callback",
    "上门取送车很方便": "pickup_delivery",
    "技师讲解得很清楚，很专业": "professionalism",
    "等配件等了半个月": "parts",
    "保养提醒很及时": "reminders",
    "理赔都是店里帮忙办的": "insurance",
    "提车那天还有交车仪式": "new_car_delivery",
}


# Parts of the car are not the car wash, and a quiet car is comfort, not a repair (seen on public
# car reviews: 车身外观紧凑 read as a car wash, 噪音小 as repair quality); a dirty body or glass is
# still the car wash, and a noise after a repair (异响) still repair quality.
PARTS_AND_NOISE = {
    "车身外观紧凑而流畅": "fault_body",
    "挡风玻璃有一道裂纹": "fault_body",
    "低速时噪音很小": "drive_comfort",
    "车身上都是水印，一看就是没擦干": "car_wash",
    "玻璃上有水渍，没擦干净": "car_wash",
    "车身上的鸟屎都没洗掉": "car_wash",
    "修完以后还是有异响": "repair_quality",
    # Session 43, Peng 2018's car remarks read as service aspects: the back seat as the lounge, the
    # throttle as waiting in the workshop.
    "针对用户反映后座狭小": "drive_space",
    "油门反应不是很快": "drive_power",
    "侧倾也比较小": "drive_handling",
    "两个前座比较舒服": "drive_interior",
    "休息室的座位很舒服": "lounge",
    "等了好久才弄好，速度太慢": "efficiency",
}


@pytest.mark.parametrize(("text", "aspect"), [*HAND_EXAMPLES.items(), *PARTS_AND_NOISE.items()])
def test_lexicon_names_the_aspect_of_hand_examples(text, aspect):
    assert themes.lexicon_aspect(themes.tokenize([text])[0]) == aspect


def test_negated_praise_cue_counts_for_the_complaint_side():
    tokens = themes.tokenize(["洗车很干净，但是休息室不舒服"])[0]
    assert themes.lexicon_aspect(tokens, "praise") == "car_wash"
    assert themes.lexicon_aspect(tokens, "complaint") == "lounge"


def test_negated_complaint_word_praises():
    tokens = themes.tokenize(["价格不贵，服务顾问也很热情"])[0]
    assert themes.lexicon_aspect(tokens, "praise") == "price"


def test_cue_shared_by_aspects_goes_to_the_aspect_named_before_it():
    # 干净 praises both a car wash and a lounge; here it follows 休息室.
    assert themes.lexicon_aspect(themes.tokenize(["休息室很干净"])[0]) == "lounge"
    assert themes.lexicon_aspect(themes.tokenize(["车洗完很干净"])[0]) == "car_wash"


def test_contentless_comments_are_none_and_content_without_theme_is_other():
    texts = ["满意", "无", "挺好的", "没意见", "很好", "可以", "服务挺好的，下次还来", "还行吧"]
    model = themes.mine([*texts, "洗车很干净"])
    assert themes.assign(model, [*texts, "洗车很干净", "今天天气晴朗"]) == [
        *(["none"] * len(texts)),
        "car_wash",
        "other",
    ]


def test_mine_and_assign_are_deterministic_for_a_seed():
    texts = pd.read_csv(EVAL_CSV)["text"].tolist()
    first = themes.mine(texts, k=8, seed=0)
    themes.load_lexicon().memo.clear()
    second = themes.mine(texts, k=8, seed=0)
    assert first.themes == second.themes
    assert first.topic_themes == second.topic_themes
    assert (first.topics == second.topics).all()
    assert themes.assign(first, texts) == themes.assign(second, texts)


def test_a_kept_theme_model_leaves_the_lexicons_memo_of_comments_behind():
    # Issue 20: the memo of analysed comments was 99% of a side's kept model at a million work
    # orders (up to 14.7 MB), and reading it back cost 1-2 s of another month's themes.
    texts = pd.read_csv(EVAL_CSV)["text"].tolist()
    model = themes.mine(texts, k=8, seed=0)
    assert model.lexicon.memo  # filled while fitting
    kept = pickle.dumps(model)
    back = pickle.loads(kept)
    assert back.lexicon.memo == {} and model.lexicon.memo
    assert back.themes == model.themes and back.lexicon == model.lexicon
    assert themes.assign(back, texts) == themes.assign(model, texts)
    lexicon_alone = len(pickle.dumps(themes.load_lexicon()))
    assert len(kept) < lexicon_alone + 200_000


def _charging_comments(n: int) -> list[str]:
    openers = ["", "这次来保养，", "说实话，", "另外，", "顺便说一句，"]
    subjects = [
        "店里的充电桩",
        "充电桩",
        "你们的充电桩",
        "新装的充电桩",
        "快充桩",
        "充电的地方",
        "充电车位",
        "门口的充电桩",
    ]
    remarks = [
        "很方便，等车的时候顺便充满了",
        "太少了，每次都要排队",
        "坏了一个也没人修",
        "位置不好找",
        "被油车占了",
        "充电速度挺快的",
        "免费充电，这个好",
        "扫码老是失败",
        "希望再多装几个",
        "电动车车主很需要",
    ]
    planted = [f"{o}{s}{r}" for o, s, r in itertools.product(openers, subjects, remarks)]
    random.Random(0).shuffle(planted)
    return planted[:n]


def test_discovery_surfaces_a_planted_theme_the_lexicon_does_not_know():
    frame = pd.read_csv(EVAL_CSV)
    base = frame.loc[frame["label"] != "charging", "text"].tolist()
    planted = _charging_comments(200)
    model = themes.mine(base + planted, k=8, seed=0)
    charging = {t.id for t in model.themes.values() if t.source == "discovered" and "充电" in t.label_zh}
    assert charging
    assigned = themes.assign(model, planted)
    assert sum(theme in charging for theme in assigned) >= 130


def test_parse_lexicon_refuses_a_duplicate_id():
    aspect = {"id": "wash", "terms": ["洗车"]}
    with pytest.raises(UserError, match="used twice"):
        themes.parse_lexicon({"aspect": [aspect, aspect]})


# ----------------------------------------------------------------------------- database


def _order(con, order_id, store, advisor):
    con.execute(
        "INSERT INTO service_orders (order_id, store, advisor, visit_date, service_type, import_id) "
        "VALUES ($o, $s, $a, DATE '2024-01-01', 'maintenance', 1)",
        {"o": order_id, "s": store, "a": advisor},
    )


def _callback(
    con, callback_id, order_id, when, comment, *, reached=True, overall=10.0, complaint=False, category=None
):
    con.execute(
        "INSERT INTO callbacks (callback_id, order_id, callback_type, callback_date, reached, overall_score, "
        "comment, is_complaint, complaint_category, import_id) "
        "VALUES ($id, $o, '3DC', $d, $r, $s, $c, $f, $cat, 1)",
        {
            "id": callback_id,
            "o": order_id,
            "d": datetime.fromisoformat(when),
            "r": reached,
            "s": overall,
            "c": comment,
            "f": complaint,
            "cat": category,
        },
    )


def test_tokenize_pending_stores_tokens_once_and_follows_changes(tmp_path):
    con = db.connect(tmp_path / "t.duckdb")
    _callback(con, "c1", None, "2024-05-01 10:00", "洗车很干净")
    _callback(con, "c2", None, "2024-05-01 11:00", "满意")
    _callback(con, "c3", None, "2024-05-01 12:00", "  ")
    _callback(con, "c4", None, "2024-05-01 13:00", None)
    assert themes.tokenize_pending(con) == 2
    rows = con.execute("SELECT * FROM comment_tokens ORDER BY callback_id").fetchall()
    assert rows == [("c1", "洗车很干净", "洗车 很 干净"), ("c2", "满意", "满意")]
    assert themes.tokenize_pending(con) == 0
    con.execute("UPDATE callbacks SET comment = '休息室太吵' WHERE callback_id = 'c2'")
    con.execute("DELETE FROM callbacks WHERE callback_id = 'c1'")
    assert themes.tokenize_pending(con) == 1
    assert con.execute("SELECT * FROM comment_tokens").fetchall() == [("c2", "休息室太吵", "休息室 太吵")]
    assert themes.tokenize_pending(con) == 0


def test_tokenize_pending_reuses_the_tokens_of_a_text_already_segmented(tmp_path, monkeypatch):
    con = db.connect(tmp_path / "t.duckdb")
    _callback(con, "c1", None, "2024-05-01 10:00", "洗车很干净")
    _callback(con, "c2", None, "2024-05-01 11:00", "。。。")
    assert themes.tokenize_pending(con) == 2
    segmented: list[list[str]] = []
    real = segmentation._tokens_of_distinct

    def recording(comments: list[str]) -> list[str]:
        segmented.append(list(comments))
        return real(comments)

    monkeypatch.setattr(segmentation, "_tokens_of_distinct", recording)
    _callback(con, "c3", None, "2024-05-02 10:00", "洗车很干净")
    _callback(con, "c4", None, "2024-05-02 11:00", "。。。")
    _callback(con, "c5", None, "2024-05-02 12:00", "休息室太吵")
    assert themes.tokenize_pending(con) == 3
    # Only the new text is segmented; the repeated ones (one with no word at all) take the stored tokens.
    assert segmented == [["休息室太吵"]]
    rows = con.execute("SELECT * FROM comment_tokens ORDER BY callback_id").fetchall()
    assert rows == [
        ("c1", "洗车很干净", "洗车 很 干净"),
        ("c2", "。。。", ""),
        ("c3", "洗车很干净", "洗车 很 干净"),
        ("c4", "。。。", ""),
        ("c5", "休息室太吵", "休息室 太吵"),
    ]


@pytest.fixture()
def month_db(tmp_path):
    """Praise and complaint comments over March-May 2024 in two stores."""
    con = db.connect(tmp_path / "m.duckdb")
    _order(con, "O1", "A", "张三")
    _order(con, "O2", "A", "李四")
    _order(con, "O3", "B", "王五")
    for i, text in enumerate(["服务顾问态度很好，很热情", "接待很热情", "态度好，很耐心", "服务态度没得说"]):
        _callback(con, f"apr{i}", "O1", f"2024-04-0{i + 1} 10:00", text)
    _callback(con, "apr9", "O2", "2024-04-20 10:00", "满意")
    wash = [
        "洗车洗得很干净",
        "车洗得很干净",
        "洗车很认真，里外都干净",
        "洗车洗得不错",
        "车洗得锃亮",
        "洗车很干净",
    ]
    for i, text in enumerate(wash):
        _callback(con, f"may_w{i}", "O1" if i < 4 else "O2", f"2024-05-0{i + 1} 09:00", text)
    _callback(con, "may_a1", "O1", "2024-05-10 09:00", "接待很热情")
    _callback(con, "may_a2", "O2", "2024-05-11 09:00", "服务顾问态度很好")
    _callback(con, "may_n1", "O1", "2024-05-12 09:00", "满意")
    _callback(con, "may_n2", "O2", "2024-05-13 09:00", "挺好的")
    _callback(con, "may_b1", "O3", "2024-05-14 09:00", "休息室很舒服")
    # Not praise: unreached, unsatisfied, blank, flagged as a complaint.
    _callback(con, "may_x1", "O1", "2024-05-15 09:00", "洗车很干净", reached=False)
    _callback(con, "may_x2", "O1", "2024-05-16 09:00", "休息室太吵了", overall=6.0)
    _callback(con, "may_x3", "O1", "2024-05-17 09:00", "")
    _callback(con, "may_x4", "O2", "2024-05-18 09:00", "收费太贵了", complaint=True, category="收费问题")
    _callback(con, "jun_1", "O1", "2024-06-01 09:00", "洗车很干净")
    yield con
    con.close()


def test_monthly_themes_counts_shares_trend_and_flags(month_db):
    result = themes.monthly_themes(month_db, "2024-05", "praise", months_back=2)
    assert (result["n_comments"], result["n_contentless"], result["n_other"]) == (11, 2, 0)
    assert result["months"] == ["2024-03", "2024-04"]
    assert result["months_n"] == [0, 5]
    summary = [(t["id"], t["n"], t["share"], t["trend"], t["new"], t["rising"]) for t in result["themes"]]
    assert summary == [
        ("car_wash", 6, 6 / 11, [None, 0.0], True, False),
        ("attitude", 2, 2 / 11, [None, 0.8], False, False),
        ("lounge", 1, 1 / 11, [None, 0.0], False, False),
    ]
    wash = result["themes"][0]
    assert len(wash["quotes"]) == 3
    assert set(wash["quotes"]) <= {
        "洗车洗得很干净",
        "车洗得很干净",
        "洗车很认真，里外都干净",
        "洗车洗得不错",
        "车洗得锃亮",
        "洗车很干净",
    }
    assert "categories" not in result


def test_monthly_themes_are_the_same_with_stored_tokens(month_db):
    before = themes.monthly_themes(month_db, "2024-05", "praise", months_back=2)
    assert themes.tokenize_pending(month_db) == 20
    assert themes.monthly_themes(month_db, "2024-05", "praise", months_back=2) == before


def test_monthly_themes_complaint_side_and_categories(month_db):
    result = themes.monthly_themes(month_db, "2024-05", "complaint", months_back=2)
    assert result["n_comments"] == 2
    assert [(t["id"], t["n"], t["hotspot"]) for t in result["themes"]] == [
        ("lounge", 1, True),
        ("price", 1, True),
    ]
    assert result["categories"] == [
        {"category": "收费问题", "n": 1, "share": 1.0, "aspect": "price", "hotspot": True}
    ]


def test_complaint_side_counts_praise_only_apart_and_quotes_the_complaint(month_db):
    # An unsatisfied customer who only praises the lounge is not a lounge complaint: the reason for
    # the score is not in the comment. Beside a complaint, the praise is cut from the quote.
    _callback(month_db, "may_x5", "O2", "2024-05-19 09:00", "休息室很舒服", overall=5.0)
    _callback(month_db, "may_x6", "O3", "2024-05-20 09:00", "接待很热情，但是休息室太吵了", overall=4.0)
    _callback(month_db, "may_x7", "O3", "2024-05-21 09:00", "节温器换一下要六千多，外面便宜一半", overall=3.0)
    result = themes.monthly_themes(month_db, "2024-05", "complaint", months_back=2)
    assert (result["n_comments"], result["n_praise_only"]) == (5, 1)
    by_id = {t["id"]: t for t in result["themes"]}
    assert (by_id["lounge"]["n"], by_id["price"]["n"]) == (2, 2)
    assert sorted(by_id["lounge"]["quotes"]) == ["休息室太吵了", "但是休息室太吵了"]
    assert "接待很热情" not in " ".join(q for t in result["themes"] for q in t["quotes"])
    praise_only = themes.theme_comments(month_db, themes.PRAISE_ONLY, "2024-05", "complaint", months_back=2)
    assert praise_only["comment"].tolist() == ["休息室很舒服"]


def test_a_complaint_beside_praise_is_themed_by_what_it_complains_of(month_db):
    """On the complaint side a comment that praises before its "but" was themed by what it praised:
    回访的同事很客气，就是顾问说话很冲 counted as a callback complaint, 水果饮料随便拿，就是…外面便宜一半
    as a meals complaint (the demo's complaint themes had many such). Now the theme, like the quote,
    is what follows the turn."""
    comments = {
        "may_y1": ("回访的同事很客气，就是顾问说话很冲，体验很差", "attitude"),
        "may_y2": ("水果饮料随便拿，就是大灯换一下要四千多，外面便宜一半", "price"),
        "may_y3": ("休息室很舒服，还能办公，但是收费太贵了", "price"),
        "may_y4": ("技师很专业，还给我讲了减震器怎么保养，就是洗车没洗干净", "car_wash"),
    }
    for i, (callback_id, (text, _)) in enumerate(comments.items()):
        _callback(month_db, callback_id, "O3", f"2024-05-2{i} 09:00", text, overall=4.0)
    from analytics.domain.themes import monthly

    frame = monthly.month_comments(month_db, "2024-05", "complaint", None, months_back=2)
    theme_of = dict(zip(frame["comment"], frame["theme"], strict=True))
    assert {t: theme_of[t] for t, _ in comments.values()} == dict(comments.values())
    result = themes.monthly_themes(month_db, "2024-05", "complaint", months_back=2)
    quotes = " ".join(q for t in result["themes"] for q in t["quotes"])
    assert "回访的同事很客气" not in quotes and "减震器" not in quotes


def test_a_comments_sign_off_never_names_a_discovered_theme(month_db):
    """麻烦跟领导反映一下, 唯一不足是, 太影响心情了 made discovered complaint themes of their own on the
    demo ("反映 · 领导 · 麻烦", "划痕 · 不足 · 麻烦"). They are left out of the store's comments
    before discovery, but not out of other texts, where 麻烦 can be the topic (安装麻烦)."""
    import pandas as pd

    from analytics.domain.themes import corpora, monthly

    text = "唯一不足是车上多了划痕，麻烦跟领导反映一下，希望能重视一下，太影响心情了"
    frame = pd.DataFrame({"comment": [text], "tokens": [None]})
    _, mined = monthly._tokens(month_db, frame, "complaint")
    words = set(corpora.content_words(mined[0]))  # what discovery sees
    assert "划痕" in words
    assert not {"唯一", "不足", "麻烦", "领导", "反映", "希望", "重视", "影响", "心情"} & words
    assert "麻烦" in corpora.content_words(["安装", "麻烦"])


def test_monthly_themes_filter_by_store(month_db):
    result = themes.monthly_themes(month_db, "2024-05", "praise", stores=["B"], months_back=2)
    assert result["n_comments"] == 1
    assert [(t["id"], t["n"]) for t in result["themes"]] == [("lounge", 1)]


def test_one_theme_model_per_data_version_names_every_month_and_store(month_db, monkeypatch):
    # Issue 20: another month or one store is assigned to the data version's model, not fitted
    # afresh; a comment's theme is the same whichever view shows it.
    from analytics.domain.themes import monthly
    from analytics.services import marts  # noqa: F401 (installs the kept results)

    fitted: list[int] = []
    real_mine = monthly.mine
    monkeypatch.setattr(monthly, "mine", lambda docs, **kw: fitted.append(len(docs)) or real_mine(docs, **kw))
    opened = themes.model_month(month_db, "2024-04")
    assert opened == "2024-06" and themes.model_month(month_db, "2024-07") == "2024-07"
    store_b = themes.monthly_themes(month_db, "2024-05", "praise", stores=["B"], months_back=2)
    april = themes.monthly_themes(month_db, "2024-04", "praise", months_back=2)
    group = themes.monthly_themes(month_db, "2024-06", "praise", months_back=2)
    # one fit, on every store's praise of April-June
    assert fitted == [sum(monthly.fit_window(month_db, "2024-06", "praise", None, 2, 8, 0).counts.values())]
    assert store_b["model_month"] == april["model_month"] == group["model_month"] == "2024-06"
    themed = {}
    for month, stores in (("2024-06", None), ("2024-05", None), ("2024-05", ("B",)), ("2024-04", ("A",))):
        frame = monthly.fit_window(month_db, month, "praise", stores, 2, 8, 0).frame
        for callback_id, theme in zip(frame["callback_id"], frame["theme"], strict=True):
            assert themed.setdefault(callback_id, theme) == theme, (month, stores, callback_id)
    assert themed["may_b1"] == "lounge" and themed["may_w0"] == "car_wash"


def test_monthly_themes_refuse_a_malformed_month(month_db):
    with pytest.raises(UserError, match="YYYY-MM"):
        themes.monthly_themes(month_db, "2024-5")


def test_praise_board_ranks_advisors_by_praise_comments(month_db):
    board = themes.themes_by_advisor(month_db, "2024-05", months_back=2)
    rows = board[["advisor", "advisor_n", "theme", "n"]].itertuples(index=False, name=None)
    assert list(rows) == [
        ("张三", 6, "car_wash", 4),
        ("张三", 6, "attitude", 1),
        ("李四", 4, "car_wash", 2),
        ("李四", 4, "attitude", 1),
        ("王五", 1, "lounge", 1),
    ]
    assert board.loc[0, "label_zh"] == "洗车"


def test_theme_comments_lists_the_comments_behind_a_theme(month_db):
    frame = themes.theme_comments(month_db, "car_wash", "2024-05", "praise", months_back=2)
    assert sorted(frame["callback_id"]) == [f"may_w{i}" for i in range(6)]
    assert list(frame.columns) == [
        "callback_id",
        "callback_date",
        "store",
        "advisor",
        "overall_score",
        "comment",
        "theme",
        "centrality",
    ]
    assert frame["centrality"].is_monotonic_decreasing
    none = themes.theme_comments(month_db, "none", "2024-05", "praise", months_back=2)
    assert sorted(none["callback_id"]) == ["may_n1", "may_n2"]


def test_themes_cli_reports_a_month_as_json(month_db, tmp_path, capsys):
    path = month_db.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    month_db.close()
    assert cli.main(["themes", "--month", "2024-05", "--json", "--db", path]) == 0
    out = capsys.readouterr().out
    assert '"n_comments": 11' in out
    assert '"id": "car_wash"' in out


def test_themes_cli_refuses_a_store_the_data_does_not_hold_and_a_missing_database(month_db, tmp_path, capsys):
    # An unknown --store printed "0 comments", as if the store had had a quiet month.
    path = month_db.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    stores = [
        r[0] for r in month_db.execute("SELECT DISTINCT store FROM service_orders ORDER BY 1").fetchall()
    ]
    month_db.close()
    assert cli.main(["themes", "--month", "2024-05", "--store", "无此店", "--db", path]) == 2
    assert (
        f"Unknown store 无此店; the stores in the data are: {', '.join(stores)}." in capsys.readouterr().err
    )
    assert cli.main(["themes", "--month", "2024-05", "--store", stores[0], "--json", "--db", path]) == 0
    assert '"n_comments": ' in capsys.readouterr().out
    missing = tmp_path / "none.duckdb"
    assert cli.main(["themes", "--month", "2024-05", "--db", str(missing)]) == 2
    assert "There is no database at" in capsys.readouterr().err
    assert not missing.exists()


# ----------------------------------------------------------------------------- files of texts


FILE_TEXTS = ["洗车很干净", "满意", "", "今天天气晴朗", "工时费太贵了", "接待的小姑娘很热情"]


def test_themes_file_writes_one_row_per_input_row_in_order(tmp_path, capsys):
    source = tmp_path / "feedback.csv"
    pd.DataFrame({"编号": range(1, 7), "客户反馈": FILE_TEXTS}).to_csv(
        source, index=False, encoding="gb18030"
    )
    out = tmp_path / "themes.csv"
    code = cli.main(["themes", "--file", str(source), "--text-column", "客户反馈", "--out", str(out)])
    assert code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    result = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert list(result.columns) == ["row", "theme", "label"]
    assert result.values.tolist() == [
        ["1", "car_wash", "洗车"],
        ["2", "none", "无实质内容"],
        ["3", "none", "无实质内容"],
        ["4", "other", "其他"],
        ["5", "price", "价格/收费透明"],
        ["6", "attitude", "服务态度"],
    ]


def test_themes_file_reads_xlsx(tmp_path):
    source = tmp_path / "feedback.xlsx"
    pd.DataFrame({"意见": FILE_TEXTS}).to_excel(source, index=False)
    out = tmp_path / "themes.csv"
    assert cli.main(["themes", "--file", str(source), "--text-column", "意见", "--out", str(out)]) == 0
    assert pd.read_csv(out, encoding="utf-8-sig")["theme"].tolist() == [
        "car_wash",
        "none",
        "none",
        "other",
        "price",
        "attitude",
    ]


def test_themes_file_missing_column_names_the_available_ones(tmp_path, capsys):
    source = tmp_path / "feedback.csv"
    source.write_text("id,意见\n1,满意\n", encoding="utf-8")
    code = cli.main(
        ["themes", "--file", str(source), "--text-column", "comment", "--out", str(tmp_path / "o.csv")]
    )
    assert code == 2
    assert "its columns are: id, 意见" in capsys.readouterr().err


def test_themes_help_describes_both_modes(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["themes", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--month" in out and "--file" in out and "--text-column" in out
