"""Header aliases, kind detection and saved mappings."""

from __future__ import annotations

import json

import pytest

from analytics.core.errors import UserError
from analytics.ingest import auto_mapping, detect_kind, load_mapping, save_mapping
from analytics.ingest.mapping import _alias_index, match_header

# Every alias PRODUCT.md §2 names, plus the store column this importer adds.
PRODUCT_ALIASES = {
    "order_id": ["工单号", "委托书号", "维修单号"],
    "vin": ["车架号", "VIN", "底盘号"],
    "plate": ["车牌号", "车牌"],
    "customer_name": ["客户姓名", "车主", "客户名称"],
    "phone": ["联系电话", "手机", "手机号", "电话"],
    "model": ["车型", "车系"],
    "purchase_date": ["购车日期", "销售日期", "开票日期"],
    "visit_date": ["进厂日期", "进站日期", "入厂时间", "进厂时间"],
    "mileage_km": ["进厂里程", "行驶里程", "里程"],
    "service_type": ["维修类型", "业务类型", "工单类型"],
    "amount": ["结算金额", "总金额", "金额"],
    "advisor": ["服务顾问", "接待顾问"],
    "is_appointment": ["是否预约", "预约"],
    "callback_date": ["回访日期", "回访时间"],
    "agent": ["回访人", "回访专员"],
    "reached": ["是否接通", "接通"],
    "overall_score": ["总体满意度", "满意度"],
    "recommend_score": ["推荐意愿", "推荐度"],
    "attitude_score": ["服务态度"],
    "quality_score": ["维修质量"],
    "timeliness_score": ["维修时效", "时效"],
    "price_score": ["收费合理", "价格"],
    "environment_score": ["环境", "休息环境"],
    "comment": ["客户意见", "回访内容", "客户反馈", "备注"],
    "is_complaint": ["是否投诉"],
    "complaint_category": ["投诉类别", "投诉类型"],
    "complaint_level": ["投诉等级", "投诉级别"],
    "resolved_at": ["处理完成时间", "结案时间"],
    "callback_type": ["回访类型"],
    "callback_id": ["回访编号"],
    "store": ["门店", "店名", "经销商"],
}


@pytest.mark.parametrize(("field", "alias"), [(f, a) for f, names in PRODUCT_ALIASES.items() for a in names])
def test_every_product_alias_names_its_field(field, alias):
    hit = match_header(alias)
    assert hit is not None
    assert hit[0] == field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("接待满意度", "attitude_score"),
        ("维修效果", "quality_score"),
        ("交车及时性", "timeliness_score"),
        ("等待时长", "timeliness_score"),
        ("价格合理性", "price_score"),
        ("收费透明", "price_score"),
        ("休息区", "environment_score"),
        ("是否愿意推荐", "recommend_score"),
        ("NPS", "recommend_score"),
    ],
)
def test_survey_dimensions_as_other_vendors_name_them(header, field):
    hit = match_header(header)
    assert hit is not None and hit[0] == field
    headers = ["回访单号", "工单号", "回访日期", header]
    assert auto_mapping(headers, "callback")[field] == header


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("order_id", "order_id"),
        ("Order ID", "order_id"),
        (" CALLBACK_DATE ", "callback_date"),
        ("vin", "vin"),
        ("ＶＩＮ", "vin"),
        ("工 单 号", "order_id"),
        ("结算金额（元）", "amount"),
        ("里程(km)", "mileage_km"),
        ("\u3000客户姓名\u3000", "customer_name"),
    ],
)
def test_headers_match_ignoring_case_spaces_full_width_forms_and_units(header, field):
    hit = match_header(header)
    assert hit is not None
    assert hit[0] == field


def test_unknown_headers_match_nothing():
    assert match_header("工时费") is None
    assert match_header("") is None
    assert match_header(None) is None


def test_no_alias_is_listed_under_two_fields():
    index = _alias_index()
    assert index["工单号"] == ("order_id", 1)


def test_kind_is_detected_from_headers():
    service = ["门店", "工单号", "车架号", "进厂日期", "结算金额", "维修类型"]
    callback = ["工单号", "车牌号", "客户姓名", "回访日期", "回访人", "是否接通", "满意度"]
    assert detect_kind(service) == "service"
    assert detect_kind(callback) == "callback"
    assert detect_kind(["名称", "数量"]) is None
    assert detect_kind(["回访日期"]) is None


def test_auto_mapping_prefers_the_more_specific_alias():
    headers = ["金额", "工单号", "结算金额", "进厂日期", "满意度"]
    assert auto_mapping(headers, "service") == {
        "order_id": "工单号",
        "visit_date": "进厂日期",
        "amount": "结算金额",
    }


def test_mapping_round_trips_through_toml_and_json(tmp_path):
    mapping = {
        "kind": "callback",
        "columns": {"order_id": "单号", "callback_date": '回访 "日期"', "comment": ""},
        "scales": {"overall_score": "1-5", "recommend_score": "0-10"},
    }
    for name in ("m.toml", "m.json"):
        save_mapping(mapping, tmp_path / name)
        assert load_mapping(tmp_path / name) == mapping
    assert json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))["kind"] == "callback"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('kind = "orders"\n', "use service or callback"),
        ('[columns]\nnot_a_field = "x"\n', "unknown field"),
        ('[scales]\noverall_score = "1-7"\n', "1-5, 0-10, 0-100, labels"),
        ('[scales]\namount = "0-10"\n', "is not a score"),
        ("kind = \n", "not valid TOML"),
        ('kind = "service"\n[columns]\nagent = "回访人"\n', "unknown field"),
    ],
)
def test_invalid_mapping_files_are_refused_with_a_sentence(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=fragment):
        load_mapping(path)


def test_a_missing_mapping_file_is_refused(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_mapping(tmp_path / "nope.toml")
