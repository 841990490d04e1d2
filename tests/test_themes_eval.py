"""Issue 16: the evaluation command, entities never themes, readable labels, clause-level polarity."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import cli
from analytics.domain import themes
from analytics.domain.themes import corpora as themes_eval
from analytics.domain.themes import polarity as themes_polarity
from analytics.store import db

EVAL_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval"
PENG = EVAL_DIR / "peng2018_chinese_absa_car_phone_camera_notebook.csv"
CJK = re.compile(r"[\u3400-\u9fff]")


def _clauses(text):
    return [(c.text, c.polarity, c.turn) for c in themes_polarity.clauses(text, themes.tokenize)]


# --------------------------------------------------------------------------- evaluate command


@pytest.mark.skipif(not PENG.is_file(), reason="../shared/eval is not beside the repository")
def test_evaluate_runs_on_a_slice_of_a_public_corpus(capsys):
    code = cli.main(
        [
            "themes", "evaluate", "--file", str(PENG), "--text-column", "sentence",
            "--label-column", "aspect", "--label-rule", "top-terms", "--top-terms", "5",
            "--part", "dev", "--limit", "120", "--json",
        ]
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["n"], result["k"], result["labels"], result["part"]) == (120, 5, 5, "dev")
    for name in ("method", "baseline"):
        r = result[name]
        assert 0.0 <= r["nmi"] <= 1.0 and 0.0 < r["purity"] <= 1.0
        assert sum(theme["n"] for theme in r["themes"]) == round(r["assigned"] * 120)
        assert len(r["themes"]) == 5
    # The five most frequent aspect terms of this corpus name themselves: the method finds them.
    assert result["method"]["nmi"] >= 0.6
    # The lexicon reads too few of these phone and camera remarks to lead.
    assert result["lexicon_coverage"] < themes_eval.LEXICON_LED_COVERAGE
    assert result["route"] == "content words"
    assert result["baseline_same_clusters"] == result["baseline"]


# A text whose first clause names the car wash three times and whose next two name the price:
# read whole, the car wash outweighs; read clause by clause, two of three clauses speak of price.
MIXED = "洗车吸尘清洗都很马虎，价格偏高，收费不透明"


def test_lexicon_led_theme_is_the_aspect_most_clauses_speak_of():
    texts = [MIXED, "价格太贵", "洗车不干净"]
    tokens = themes.tokenize(texts)
    assert themes_eval.route(tokens) == "lexicon-led"
    assert themes_eval.discover(tokens, k=2, texts=texts).clusters == ["price", "price", "car_wash"]
    # Without the raw texts each text is read whole.
    assert themes_eval.discover(tokens, k=2).clusters == ["car_wash", "price", "car_wash"]


def test_discovery_routes_by_the_share_of_texts_the_lexicon_reads():
    read = ["价格太贵", "洗车不干净", "快递很快", "电池很耐用"]
    unread = ["这本书的内容很精彩", "这本书纸张很差", "屏幕很清晰"]
    assert themes_eval.lexicon_coverage(themes.tokenize(read + unread)) == 4 / 7
    assert themes_eval.route(themes.tokenize(read + unread)) == "content words"
    assert themes_eval.route(themes.tokenize(read * 4 + unread[:1])) == "lexicon-led"
    # Texts without content words do not count; none at all reads as no coverage.
    assert themes_eval.lexicon_coverage(themes.tokenize(read + ["的了"])) == 1.0
    assert themes_eval.lexicon_coverage(themes.tokenize(["的了", ""])) == 0.0


def _write(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / "labelled.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(path, index=False)
    return path


GROUPS = {
    "wait": ["等了很久才修好车", "排队等待时间太长", "等待时间太长了", "修车排队等了很久", "排队等待太久"],
    "price": ["工时费价格太贵", "配件价格偏贵", "收费价格不透明", "价格太贵工时费高", "配件收费偏贵"],
    "wash": ["洗车没洗干净", "洗车不干净车顶脏", "洗车洗得很干净", "车内洗车吸尘干净", "洗车不仔细很脏"],
}


def test_evaluate_finds_clean_groups_and_reports_both_methods(tmp_path, capsys):
    rows = [(text, label) for label, texts in GROUPS.items() for text in texts] * 2
    rows = [(f"{text}（{i}）", label) for i, (text, label) in enumerate(rows)]
    path = _write(tmp_path, rows)
    args = ["themes", "evaluate", "--file", str(path), "--text-column", "text", "--label-column", "label"]
    assert cli.main([*args, "--part", "all", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["n"], result["k"]) == (30, 3)
    assert result["method"]["nmi"] == 1.0
    assert result["method"]["assigned"] == 1.0
    assert cli.main([*args, "--part", "all"]) == 0
    text = capsys.readouterr().out
    assert "method   NMI 1.000" in text and "baseline NMI" in text


def test_evaluate_reads_a_labelled_table_saved_by_chinese_excel(tmp_path, capsys):
    """`themes evaluate` read UTF-8 only ("not a readable UTF-8 CSV"), while a table saved by
    Excel in China is GB18030 and `themes --file` already read it: one reader for both now."""
    rows = [(text, label) for label, texts in GROUPS.items() for text in texts] * 2
    rows = [(f"{text}（{i}）", label) for i, (text, label) in enumerate(rows)]
    path = tmp_path / "标注.csv"
    pd.DataFrame(rows, columns=["评论", "类别"]).to_csv(path, index=False, encoding="gb18030")
    args = ["themes", "evaluate", "--file", str(path), "--text-column", "评论", "--label-column", "类别"]
    assert cli.main([*args, "--part", "all", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 30


def test_evaluate_refuses_bad_input_in_one_sentence(tmp_path, capsys):
    path = _write(tmp_path, [("洗车很干净", "wash"), ("价格太贵", "price")])
    code = cli.main(
        ["themes", "evaluate", "--file", str(path), "--text-column", "评论", "--label-column", "label"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The table has no column '评论'") and "Traceback" not in err


def test_split_is_fixed_and_halves_the_rows():
    parts = [themes_eval.split_part(i) for i in range(2000)]
    assert parts[:6] == [themes_eval.split_part(i) for i in range(6)]
    assert 900 < parts.count("dev") < 1100
    assert themes_eval.split_part(7, seed=1) == themes_eval.split_part(7, seed=1)


def test_dominant_group_labels_leave_out_ties():
    frame = pd.DataFrame(
        {
            "content": ["a", "b", "c"],
            "service_wait": [1, -2, 1],
            "service_attitude": [0, -2, -2],
            "price_level": [1, 1, 1],
        }
    )
    texts, labels = themes_eval.labelled_texts(
        frame, "content", "service,price", "dominant-group", part="all"
    )
    assert (texts, labels) == (["a", "b"], ["service", "price"])


# --------------------------------------------------------------------------- entities


BRANDS = [
    "一汽大众探岳",
    "东风日产轩逸",
    "广汽丰田凯美瑞",
    "东风本田思域",
    "吉利博越",
    "长安CS75",
    "奥迪A4L",
    "东风标致408",
]


def test_fused_words_split_into_the_corpus_words_they_are_made_of():
    docs = [["价格便宜"], ["价格", "偏高"], ["价格", "合理"], ["便宜", "好用"], ["便宜"], ["性价比"]]
    # 价格便宜 is 价格 + 便宜 (each a word of its own in two texts); 性价比 holds no such word.
    assert themes_eval.split_fused(docs) == [
        ["价格", "便宜"],
        ["价格", "偏高"],
        ["价格", "合理"],
        ["便宜", "好用"],
        ["便宜"],
        ["性价比"],
    ]
    # A piece found alone in one text only is not a word of the corpus: the fused word stays.
    assert themes_eval.split_fused([["屏幕清晰"], ["屏幕"]]) == [["屏幕清晰"], ["屏幕"]]


def test_nouns_count_twice_verbs_and_adjectives_once():
    from analytics.domain.themes.segmentation import is_noun

    words = ["屏幕", "价格", "喜欢", "购买", "便宜", "清晰"]
    assert [is_noun(w) for w in words] == [True, True, False, False, False, False]
    assert themes_eval.weight_nouns(words) == ["屏幕", "屏幕", "价格", "价格", "喜欢", "购买", "便宜", "清晰"]


PROBLEMS = {
    "gearbox": "变速箱顿挫",
    "noise": "发动机异响",
    "paint": "漆面起泡掉漆",
    "screen": "车机黑屏死机",
}


@pytest.mark.parametrize("route", ["discover", "content_clusters"])
def test_complaint_titles_give_the_problems_never_the_brands(route):
    titles, truth = [], []
    for i, brand in enumerate(BRANDS * 3):
        for key, problem in PROBLEMS.items():
            titles.append(f"{brand}{problem}，投诉{i % 4 + 1}次")
            truth.append(key)
    tokens = themes.tokenize(titles)
    # discover reads these titles lexicon-led; content_clusters is its other route.
    found = getattr(themes_eval, route)(tokens, k=4)
    entity = themes.entity_words()
    for words in found.words.values():
        assert words and not any(w in entity or themes.is_entity(w) for w in words)
    # Each discovered theme is one problem, whatever the brand and series.
    by_cluster: dict[str, set[str]] = {}
    for cluster, key in zip(found.clusters, truth, strict=True):
        by_cluster.setdefault(cluster, set()).add(key)
    assert sorted(len(v) for v in by_cluster.values()) == [1, 1, 1, 1]
    model = themes.mine(tokens, k=4)
    for theme in model.themes.values():
        if theme.source == "discovered":
            assert not any(themes.is_entity(w) for w in theme.words), theme


def test_store_names_plates_and_vins_are_entities():
    names = themes.name_pieces(["王晓明", "广州天河丰田店", None, " "])
    assert {"王晓明", "晓明"} <= names
    assert themes.drop_entities(
        ["王晓明", "热情", "粤b12345", "lsvfa49j232037048", "探岳", "2次"], names
    ) == ["热情"]
    docs = [["王晓明", "热情", "粤b12345"], [], ["探岳", "热情", "耐心", "2次", "晓明"]]
    from analytics.domain.themes.segmentation import drop_entities_all

    assert (
        drop_entities_all(docs, names)
        == [themes.drop_entities(d, names) for d in docs]
        == [["热情"], [], ["热情", "耐心"]]
    )


# --------------------------------------------------------------------------- labels


def test_function_words_never_make_a_label_and_english_is_never_chinese():
    assert {"是不是", "车上", "一下"} <= themes.stopwords()
    assert themes.content_words(["划痕", "是不是", "车上", "一下"]) == ["划痕"]
    assert themes.english_label(["划痕", "车上"]) == "scratches"
    assert themes.english_label(["中肯", "懂车"]) == "candid advice · car knowledge"
    assert themes.english_label(["嘻嘻哈哈"]) == themes.UNTRANSLATED
    # The demo's one discovered praise theme the English pages called "(untranslated)" in every month.
    assert themes.english_label(["开回去", "效率高", "打电话"]) == "driving home · efficiency · phone calls"
    # "实在 · 售价 · 难看" over price complaints read "ugly looks": a word the glossary lacks is counted.
    assert themes.english_label(["嘻嘻哈哈", "售价", "难看"]) == "price tag · ugly looks (+1 untranslated)"


def test_discovered_themes_under_one_english_label_are_numbered_apart():
    # Seen on the English themes page over real reviews: two "(untranslated)" themes were drawn as
    # one bar over the other. A discovered theme never takes a lexicon aspect's label either.
    from analytics.domain.themes.discovery import Theme, _distinct_labels

    found = {
        "price": Theme("price", "Price", "价格", "lexicon"),
        "d:使得·更加": Theme("d:使得·更加", themes.UNTRANSLATED, "使得 · 更加", "discovered"),
        "d:丰富·工艺": Theme("d:丰富·工艺", themes.UNTRANSLATED, "丰富 · 工艺", "discovered"),
        "d:价格": Theme("d:价格", "Price", "价格 · 优惠", "discovered"),
        "d:外型": Theme("d:外型", "design", "外型", "discovered"),
    }
    _distinct_labels(found)
    assert {i: t.label_en for i, t in found.items()} == {
        "price": "Price",
        "d:使得·更加": "(untranslated) 2",
        "d:丰富·工艺": "(untranslated) 1",
        "d:价格": "Price 1",
        "d:外型": "design",
    }
    assert found["d:价格"].label_zh == "价格 · 优惠"


def test_demo_praise_quotes_hold_no_complaining_clause_and_english_labels_no_chinese(demo_db, tmp_path):
    # A private copy: another test of the session may hold the shared file open read-write.
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, copy)
    con = db.connect(copy)
    try:
        month = con.execute("SELECT max(strftime(callback_date, '%Y-%m')) FROM callbacks").fetchone()[0]
        praise = themes.monthly_themes(con, month, "praise")
        complaint = themes.monthly_themes(con, month, "complaint")
    finally:
        con.close()
    quotes = [q for theme in praise["themes"] for q in theme["quotes"]]
    assert quotes
    for quote in quotes:
        assert all(c.polarity >= 0 for c in themes_polarity.clauses(quote, themes.tokenize)), quote
    for result in (praise, complaint):
        for theme in result["themes"]:
            assert not CJK.search(theme["label_en"]), theme["label_en"]
    for entry in complaint["hidden"]:
        assert not CJK.search(entry["label_en"]) and entry["n"] >= len(entry["quotes"]) >= 1


# --------------------------------------------------------------------------- polarity


def test_clause_polarity_follows_turns_and_negation():
    assert _clauses("服务不错就是等太久") == [("服务不错", 1, False), ("就是等太久", -1, True)]
    assert _clauses("可惜效率太低") == [("可惜效率太低", -1, True)]
    assert _clauses("价格不贵，态度也好") == [("价格不贵", 1, False), ("态度也好", 1, False)]
    assert _clauses("没问题") == [("没问题", 1, False)]
    assert _clauses("太好了") == [("太好了", 1, False)]
    assert themes_polarity.polarity("服务不错就是等太久", themes.tokenize) == -1
    assert themes_polarity.polarity("有点贵，但是服务很热情", themes.tokenize) == 1
    assert themes.praise_quote("服务不错就是等太久") == "服务不错"
    assert themes.praise_quote("服务不错，很满意！") == "服务不错，很满意！"
    # 好 inside 好几次 ("several times") is no praise; being put off and "don't let it happen
    # again" are complaints, cut from a satisfied customer's quote (seen on the demo's praise tab).
    assert _clauses("但是找刘顾问好几次都说在忙")[0][1] == -1
    assert _clauses("希望以后别这样")[0][1] == -1
    assert (
        themes.praise_quote("取送车很准时，司机开得也很小心，但是找刘顾问好几次都说在忙，希望以后别这样。")
        == "取送车很准时，司机开得也很小心"
    )


def test_clause_polarity_reads_fused_negators_other_shops_and_other_senses():
    # Each was read as praise in unsatisfied customers' comments at group scale.
    assert _clauses("保养完发现机油滤芯没装好") == [("保养完发现机油滤芯没装好", -1, False)]
    assert _clauses("车没洗干净")[0][1] == -1
    assert _clauses("外面便宜一半")[0][1] == -1  # cheaper elsewhere: a complaint about the price here
    assert _clauses("比外面便宜")[0][1] == 1  # cheaper than elsewhere: praise
    assert _clauses("外面更贵")[0][1] == 1
    assert _clauses("明明约好的")[0][1] == -1
    # 快 before an amount is "almost", not "fast": no praise (and since the second polarity round a
    # wait of almost three hours is a complaint).
    assert _clauses("结果等了快三个小时")[0][1] == -1
    assert _clauses("约好的时间没人接待")[0][1] == -1  # 约好 is "agreed", not "good"; nobody attended
    assert _clauses("修得很快")[0][1] == 1
    assert _clauses("好快")[0][1] == 1


def test_clause_polarity_reads_but_as_a_turn_and_agreed_after_a_fused_verb():
    """In the demo's unsatisfied comments, 不过 ("but") was read as a negator fused with its verb,
    turning the complaint after it into praise (不过排队的车太多 +1), and jieba's 就是说 好的
    read 好 as "good" (说好的洗车没洗, "the agreed wash was not done")."""
    assert _clauses("还可以吧，不过排队的车太多")[-1][1] == -1
    assert _clauses("别的都挺好，不过异响还在")[-1][1] == -1
    # No praise of the car wash; since the second polarity round, what was agreed and not done complains.
    assert _clauses("工时费便宜了，就是说好的洗车没洗")[-1][1] == -1
    assert _clauses("不过服务很好")[0][1] == 1


def test_an_unsatisfied_customers_but_after_praise_is_the_complaint():
    """3,024 of the million-order group's 45,356 distinct unsatisfied comments were counted as
    "only praise" and left out of the complaint themes: the complaint after 就是/但是 held no word
    of the sentiment lexicon (交车时间一拖再拖, 没有充电的地方), 就是说 hid the turn, and 说好的优惠
    read as praise of a discount. From a customer who was not satisfied, what follows "but" after
    praise is the complaint; now 1 of them is (没什么好说的)."""
    from analytics.domain.themes import monthly

    comments = [
        "技师很专业，就是交车时间一拖再拖",
        "服务很好，但是休息区没有充电的地方",
        "别的都挺好，就是说一个小时，结果等了两个小时",
        "交车仪式很用心，只是说好的优惠最后没给",
        "说好的优惠最后没给",
        "师傅很热情，车也洗得很干净",
    ]
    assert list(monthly.praise_only(comments)) == [False, False, False, False, False, True]
    assert monthly.complaint_quote(comments[0]) == "就是交车时间一拖再拖"
    assert monthly.complaint_quote(comments[5]) == comments[5]
    # A praising review's "but" stays what its words say (the rule lost on public reviews); 一拖再拖
    # is a complaint word since the second polarity round.
    assert _clauses(comments[1])[-1][1] == 0
    assert _clauses(comments[0])[-1][1] == -1


def test_a_satisfied_customers_grumble_is_a_hidden_complaint_about_waiting():
    hidden = themes.hidden_complaints(["服务不错就是等太久", "很满意", "洗车很干净"])
    assert [(h["id"], h["n"], h["quotes"]) for h in hidden] == [("efficiency", 1, ["就是等太久"])]


def test_polarity_is_measured_against_a_naive_baseline(tmp_path, capsys):
    path = tmp_path / "s.csv"
    pd.DataFrame(
        {
            "text": ["服务不错就是等太久", "态度不好", "不贵，很满意", "一点也不热情"],
            "label": ["0", "0", "1", "0"],
        }
    ).to_csv(path, index=False)
    args = ["themes", "evaluate", "--file", str(path), "--text-column", "text", "--sentiment-column", "label"]
    assert cli.main([*args, "--part", "all", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 4
    assert result["method"]["accuracy"] == 1.0
    # Without turns and negation the word count reads 服务不错就是等太久 as even (positive by
    # default) and 一点也不热情 as praise; it gets 态度不好 (a listed word) and 不贵，很满意 right.
    assert result["baseline"]["accuracy"] == 0.5


# --------------------------------------------------------------------------- impact


def test_theme_impact_is_the_rate_with_minus_without_its_comments():
    in_theme = np.array([True, True] + [False] * 8)
    satisfied = np.array([False, False] + [True] * 7 + [False])
    nps = np.array([-1.0, np.nan, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, -1.0])
    worth = themes.impact(in_theme, satisfied, nps)
    # Rate 70% with the theme's two callbacks, 87.5% without: -17.5 points.
    assert worth["rate"] == -17.5
    assert worth["rate_low"] < -17.5 < worth["rate_high"]
    # NPS over the nine with a score: 100 * 4/9 with, 100 * 5/8 without: -18.06 points.
    assert worth["nps"] == -18.06
    assert themes.impact(np.zeros(3, bool), np.ones(3, bool), np.ones(3))["rate"] is None


def test_impact_table_ranks_complaints_by_cost_and_praise_by_gain():
    entries = [
        {"id": "a", "label_zh": "甲", "label_en": "A", "n": 5, "impact": {"rate": -1.0}},
        {"id": "b", "label_zh": "乙", "label_en": "B", "n": 2, "impact": {"rate": -3.0}},
        {"id": "c", "label_zh": "丙", "label_en": "C", "n": 9, "impact": {"rate": 2.0}},
    ]
    complaint = themes.impact_table({"side": "complaint", "themes": entries}, "en")
    assert complaint["id"].tolist() == ["b", "a", "c"]
    praise = themes.impact_table({"side": "praise", "themes": entries}, "zh")
    assert praise[["id", "label"]].values.tolist() == [["c", "丙"], ["a", "甲"], ["b", "乙"]]


def test_clause_polarity_reads_words_that_only_look_negated():
    # 不断 is "on and on": a noise that keeps coming back is a complaint, not "no noise".
    assert _clauses("修完以后异响不断")[0][1] == -1


def test_clause_polarity_reads_a_two_character_degree_word_fused_with_its_adjective():
    # jieba keeps 比较慢 whole; the degree word 比较 is read through to 慢.
    assert _clauses("交车手续比较慢")[0][1] == -1


def test_clause_polarity_reads_little_of_a_bad_thing_as_praise():
    # 噪音 and 小 are each complaint words; together, "little noise", they praise.
    assert _clauses("换了轮胎以后噪音很小")[0][1] == 1
    assert _clauses("故障少")[0][1] == 1
    assert _clauses("噪音很大")[0][1] == -1
    assert _clauses("这台车毛病不少")[0][1] == -1


@pytest.mark.parametrize(
    "text",
    [
        # Session 43, praise of Peng 2018's car remarks read as complaints (then listed as hidden
        # complaints and dropped from the praise counts), and the dealership's own phrasings.
        "噪音非常的小",
        "低噪音特点",
        "结果是低速时噪音水平比较低",
        "侧倾不大",
        "侧倾也比较小",
        "车辆启动后噪音和抖动不明显",
        "顿挫感也最轻微",
        "保养费用低",
        "故障率低了",
        "燃油消耗低",
        "维修费用很低",
        "工时费很低",
        "价格低",
        "异响没有了",
        "问题没了",
    ],
)
def test_clause_polarity_reads_little_of_a_bad_thing_however_it_is_written(text):
    assert _clauses(text)[0][1] == 1


@pytest.mark.parametrize(
    "text",
    [
        "价格很高",
        "费用太高了",
        "售价过高",
        "收费太高",
        "问题没有解决",
        "异响还在",
        "小毛病不断",
        "可算一无是处",
    ],
)
def test_clause_polarity_keeps_much_of_a_bad_thing_and_a_fault_not_gone_as_complaints(text):
    assert _clauses(text)[0][1] == -1


def test_clause_polarity_reads_not_as_good_as_and_found_no_problem():
    # 没有/不如 reach past the words between them and the sentiment word (not only two tokens).
    assert _clauses("师傅没有想象中那么专业")[0][1] == -1
    assert _clauses("服务态度不如以前的顾问热情")[0][1] == -1
    assert _clauses("保养完开了一周没有发现什么问题")[0][1] == 1


def test_clause_polarity_reads_never_coming_back_as_a_complaint():
    assert _clauses("以后不会再来了")[0][1] == -1
    assert _clauses("再也不来这家店保养了")[0][1] == -1
    assert _clauses("有了上门取送车再也不用担心没时间")[0][1] >= 0  # no longer needing to worry


def test_clause_polarity_knows_general_complaint_words():
    # Words any Chinese review complains with, added to the lexicon in issue 16's polarity round.
    assert _clauses("新车的车漆有瑕疵")[0][1] == -1
    assert _clauses("售后的处理结果不怎么样")[0][1] == -1
    assert _clauses("前台的态度恶劣")[0][1] == -1


def test_clause_polarity_reads_rhetorical_questions_as_complaints():
    assert themes_polarity.polarity("等了三个小时，这就是你们的专业服务吗", themes.tokenize) == -1
    assert _clauses("难道这就是4S店的服务")[0][1] == -1
    assert _clauses("凭什么多收钱")[0][1] == -1
    assert _clauses("难道不是一件好事吗")[0][1] >= 0  # a double negative that praises


def test_clause_polarity_reads_praise_only_expected_as_a_complaint():
    assert _clauses("本以为4S店会很专业")[0][1] == -1
    assert _clauses("还以为保养很快")[0][1] == -1


def test_clause_polarity_reads_would_have_done_better_elsewhere_as_a_complaint():
    assert _clauses("还不如去外面修")[0][1] == -1
    assert _clauses("还不如去路边店")[0][1] == -1
    assert _clauses("不如外面便宜")[0][1] == -1


def test_clause_polarity_reads_not_strong_enough():
    assert _clauses("新车动力不够强大")[0][1] == -1


def test_clause_polarity_reads_an_unwelcome_surprise_as_a_complaint():
    assert _clauses("换个雨刮竟然还要收工时费")[0][1] == -1
    assert _clauses("居然这么快就修好了")[0][1] == 1  # praise words decide


def test_clause_polarity_reads_a_wish_as_no_praise():
    # 快 in a wish praises nothing: the clause is no praise (it was read as praise before). A wish
    # for more of something asks for what was missing: a complaint (session 21's probe).
    assert _clauses("希望下次能快一点")[0][1] == -1
    assert _clauses("建议休息区多放点好吃的")[0][1] == 0


def test_clause_polarity_knows_lacking_and_not_ideal():
    assert _clauses("车间缺少沟通")[0][1] == -1
    assert _clauses("处理结果不是很理想")[0][1] == -1


def test_clause_polarity_reads_not_enough_of_something_as_a_complaint():
    assert _clauses("停车位不够")[0][1] == -1
    assert _clauses("人手不够用")[0][1] == -1
    assert _clauses("不够热情")[0][1] == -1


def test_clause_polarity_reads_rather_too_as_a_complaint():
    assert _clauses("休息室空调偏冷")[0][1] == -1
    assert _clauses("等待时间偏长")[0][1] == -1
    assert _clauses("我偏好上午来保养")[0][1] == 0  # 偏好 is "prefer"


def test_clause_polarity_reads_a_dry_laugh_as_a_complaint():
    assert _clauses("这服务呵呵")[0][1] == -1


def test_clause_polarity_reads_inability_as_a_complaint():
    # V不C: the customer could not get something done (issue 16, second polarity round).
    assert _clauses("客服电话一直打不通")[0][1] == -1
    assert _clauses("车机蓝牙连不上")[0][1] == -1
    assert _clauses("保养约不上")[0][1] == -1
    assert _clauses("车开不了")[0][1] == -1
    assert _clauses("到店找不到人")[0][1] == -1
    # Idioms and 不了 before an amount are no inability.
    assert _clauses("师傅技术了不起")[0][1] == 0
    assert _clauses("差不多一个小时")[0][1] == 0
    assert _clauses("用不了多久就修好")[0][1] >= 0  # 修好 itself praises (session 21)


def test_clause_polarity_reads_nobody_attending_as_a_complaint():
    assert _clauses("到店半天没人接待")[0][1] == -1
    assert _clauses("展厅没有人讲解")[0][1] == -1
    assert _clauses("没人排队")[0][1] == 1  # no queue: praise, not neglect


def test_clause_polarity_reads_a_long_wait_as_a_complaint():
    assert _clauses("保养等了两个小时")[0][1] == -1
    assert _clauses("配件等了一个星期才到")[0][1] == -1
    assert _clauses("排了一上午的队")[0][1] == -1
    assert _clauses("等了二十分钟才有人来")[0][1] == -1
    assert _clauses("等了十分钟就好了")[0][1] == 1  # quick: 就 after the duration


def test_a_wait_the_customer_called_quick_is_no_complaint():
    """The wait rule made 速度挺快的，等了一个钟头左右 a hidden complaint of a satisfied customer
    (one of ten drawn from the demo's new ones): the customer judged the hour quick."""
    assert [c[1] for c in _clauses("速度挺快的，等了一个钟头左右")] == [1, 0]
    assert [c[1] for c in _clauses("服务很好，就是等了两个小时")] == [1, -1]


def test_clause_polarity_reads_stalling_words_as_complaints():
    assert _clauses("交车时间一拖再拖")[0][1] == -1
    assert _clauses("索赔的事推三阻四")[0][1] == -1


def test_clause_polarity_reads_a_broken_promise_as_a_complaint():
    said, then = _clauses("说一个小时就好，结果等到下午")
    assert then[1] == -1
    assert _clauses("答应的事情没做到")[0][1] == -1
    assert _clauses("说好的优惠最后没给")[0][1] == -1
    assert [c[1] for c in _clauses("说要三天，结果两天就到了")] == [0, 0]
