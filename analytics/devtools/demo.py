"""The embedded demo dealership: a simulated 4S store whose data come from mechanisms.

``generate`` simulates vehicles, their visits and the callbacks after them; ``write_dms_files``
writes what a DMS would export (Chinese headers, GBK CSV with a title line, XLSX, CSV with BOM);
``build_demo`` imports those files through the real import path. Same seed, same bytes: all
randomness comes from ``np.random.default_rng([seed, store])``, nothing from the clock.

Mechanisms, each with a signature a page can find (hidden ``_`` columns keep the truth):
- Vehicles: seven 东风日产 models with their own prices and service intervals; ~62% bought up
  to eight years before the window (the base), the rest delivered during it at a steady rate,
  each delivery followed by a 7DC callback 3-8 days later (its file names the buyer, his
  phone and the selling store; a 3DC file names the work order's customer and store). Owners
  have Chinese names, mobile phones (0.3% wrong), plates of the store's city (some from
  elsewhere); VINs carry an ISO 3779 check digit, wrong on ~1%. 2% of cars change owner mid-way.
- Usage: km per day is lognormal (median ~32), ~3.5% ride-hailing cars run 150-260 km/day;
  odometer readings grow with it, ~0.5% are keyed with a digit too many or too few.
- Service rhythm: 首保 at the model's first interval (3,000-5,000 km or 3-6 months, whichever
  first); 定保 every 5,000-10,000 km or 6-12 months (model), stretched or shortened by each
  customer's punctuality, every third one dearer; some routine services are done at an
  independent garage (more after warranty), so rhythms have gaps. Repairs arrive at a rate
  that grows with age and km; under warranty (3 years / 100,000 km) many are 索赔 claims;
  钣喷 accidents and other visits at low rates. The store closes over Chinese New Year and
  maintenance due just after it is pulled forward; the weeks before it and July-August are
  busy, so waits are longer and timeliness scores lower.
- Due-maintenance invitations (到期保养邀约): the CS team calls the vehicles on the store's due
  list (one rule for every model, the dashboard's default schedule, from the store's last
  maintenance) a few days before the due date, unless they came already; ~3/4 of the list is
  called (as for 3DC), ~90% of those reached (agents' reach, a second attempt). A reached
  customer books a visit in the next two weeks with a chance that is lower after an
  unsatisfied visit or a complaint (seed: 38%), for owners from away (plates from elsewhere)
  and higher for loyal ones; who books comes here (``_invited``, an appointment). Customers
  who left decline. The return rate is what follows; the calls are the hidden "invitation"
  frame (never exported).
- Advisors: 6-8 per store with different quality (store 1: 陈静 excellent, 王磊 poor, 周杰 joins
  after 16 months, 赵敏 leaves); most customers keep their advisor. In the last three months
  王磊 is overloaded (staff shortage): his repairs wait longer, come back more often and his
  attitude scores drop, so repair satisfaction under him falls well below everyone else's.
- Experience -> scores: attitude from the advisor; quality from comebacks (the car returns
  within two weeks); timeliness from waiting against the expected time (shorter when booked);
  price from the bill against the customer's price sensitivity; environment from the lounge
  (renovated 18 months before the end: lounge complaints all but stop), car wash and meals.
  The overall label is a weighted noisy sum (quality 0.35, timeliness 0.25, attitude 0.20,
  price 0.15, environment 0.05), so a driver analysis recovers the order.
- New service: 上门取送车 from five months before the end; its users do not wait and praise it,
  a new praise theme in recent comments only.
- Churn: after each visit a customer may leave for good: much more likely after a bad
  experience or a complaint, after a big bill when price-sensitive, after the free first
  maintenance; some leave at warranty end (independent garages), move away or drift off.
  Lost customers simply stop appearing; ``_churn_reason``/``_churn_day`` keep the truth.
- Appointments: ~34% of visits, rising from ~31% to ~37% over the years: the visits booked on
  a due-maintenance call plus those customers book on their own (as often for maintenance as
  for repairs).
- Callbacks: a 3DC attempt for ~75% of visits (rising), ~90% of them 0-3 days later, some
  4-7, by 3-4 agents reaching ~85%; a second attempt after about half the misses. Complaints
  (~2.5% of reached) follow bad experiences, with a category from what went wrong, level 1-4
  and a resolution time mostly within the level's limit, some late, a few still open.
- Comments: composed by ``analytics.devtools.demo_text`` from the aspects the customer experienced;
  ``_aspect``/``_aspects``/``_sentiment`` keep the ground truth for the themes module.
- Data-quality findings: wrong VIN check digits and phones, mileage going backwards, and
  ``PLANTED_BAD_ROWS`` work orders per store printed with an impossible visit date, which the
  import rejects (their callbacks then point at a missing order).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics.core.config import DATA_DIR
from analytics.core.errors import UserError
from analytics.devtools import demo_text as text
from analytics.ingest import load
from analytics.store import db

# ---------------------------------------------------------------------------------------------
# Fixed world: brand, models, stores, people, calendar.

BRAND = "东风日产"


@dataclass(frozen=True)
class _Model:
    name: str
    weight: float
    maint_km: int
    maint_months: int
    first_km: int
    first_months: int
    maint_ref: float  # typical routine-maintenance bill, yuan
    repair_factor: float  # price level and repair propensity
    vds: str  # VIN characters 4-8


MODELS: tuple[_Model, ...] = (
    _Model("轩逸", 0.30, 5000, 6, 3000, 3, 420.0, 1.0, "BAAB3"),
    _Model("天籁", 0.09, 10000, 12, 5000, 6, 760.0, 1.5, "BAJL3"),
    _Model("奇骏", 0.14, 10000, 12, 5000, 6, 700.0, 1.4, "HAMT3"),
    _Model("逍客", 0.15, 7500, 9, 5000, 6, 540.0, 1.2, "HAJ11"),
    _Model("劲客", 0.11, 5000, 6, 3000, 3, 380.0, 0.9, "HAP15"),
    _Model("楼兰", 0.05, 10000, 12, 5000, 6, 860.0, 1.7, "HAZ52"),
    _Model("骐达", 0.08, 5000, 6, 3000, 3, 400.0, 0.9, "CAC11"),
)
VIN_WMI = "LGB"

# (store name, order-id code, plate prefix)
_STORES: tuple[tuple[str, str, str], ...] = (
    ("杭州西湖店", "XH", "浙A"),
    ("杭州滨江店", "BJ", "浙A"),
    ("宁波鄞州店", "YZ", "浙B"),
    ("温州鹿城店", "LC", "浙C"),
    ("绍兴越城店", "YC", "浙D"),
    ("湖州吴兴店", "WX", "浙E"),
    ("嘉兴南湖店", "NH", "浙F"),
    ("金华婺城店", "WC", "浙G"),
    ("台州椒江店", "JJ", "浙J"),
    ("杭州萧山店", "XS", "浙A"),
    ("宁波北仑店", "BL", "浙B"),
    ("衢州柯城店", "KC", "浙H"),
    ("丽水莲都店", "LD", "浙K"),
    ("舟山定海店", "DH", "浙L"),
)
_OTHER_PLATES = ("浙A", "浙B", "浙C", "浙D", "浙F", "浙G", "沪A", "沪B", "苏E", "皖A", "赣A", "闽D")


def store_identity(index: int) -> tuple[str, str, str, str]:
    """Return (store name, order-id code, plate prefix, company name) of the store at ``index``."""
    if index < len(_STORES):
        name, code, plate = _STORES[index]
    else:
        name, code, plate = f"杭州{index + 1}号店", f"S{index + 1:02d}", "浙A"
    return name, code, plate, f"{name[:2]}恒通汽车销售服务有限公司"


_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方邵孟钱严章应俞楼裘"
)
_SURNAME_WEIGHTS = np.array(
    [7.1, 7.0, 6.7, 5.4, 4.5, 3.1, 2.2, 2.0, 2.0, 1.9, 1.3, 1.3, 1.2, 1.1, 1.1, 1.0, 0.9, 0.9, 0.9, 0.9]
    + [0.8, 0.8, 0.6, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]
    + [0.3] * 10
    + [0.25] * 10
    + [0.2] * 12
    + [0.15, 0.1, 0.05]
)
_GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林峰建国文亮成东海瑞博晨阳昊然哲翔志"
_GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪琳倩颖慧洁萍红梅莉丹蕾薇佳欣怡悦璐晶月露琪"
_GIVEN_FIRST = "晓文建志子雨思佳俊海明国春秀丽宇嘉一梓浩欣诗雅家天金永少立新振德玉美"

_PHONE_PREFIXES = np.array(
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159]
    + [166, 173, 177, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 198, 199]
)

# Store 1 (the default demo) has named people; other stores draw theirs from the name lists.
# (name, quality effect on attitude, comeback factor, share weight, joins at, leaves at) with
# joins/leaves as fractions of the window.
_ADVISORS_STORE1: tuple[tuple[str, float, float, float, float, float], ...] = (
    ("陈静", 0.40, 0.7, 1.2, 0.0, 1.0),
    ("王磊", -0.35, 1.5, 1.1, 0.0, 1.0),
    ("张伟", 0.10, 1.0, 1.0, 0.0, 1.0),
    ("刘洋", 0.00, 1.0, 1.0, 0.0, 1.0),
    ("李娜", 0.10, 0.9, 1.0, 0.0, 1.0),
    ("赵敏", -0.05, 1.1, 0.9, 0.0, 0.64),
    ("周杰", 0.15, 1.0, 1.0, 0.44, 1.0),
)
_AGENTS_STORE1: tuple[tuple[str, float, float], ...] = (
    # (name, reach probability, joins at)
    ("林小雨", 0.86, 0.0),
    ("何佳", 0.84, 0.0),
    ("吴婷婷", 0.88, 0.0),
    ("郑晓燕", 0.80, 0.35),
)
_SALES_STORE1: tuple[str, ...] = ("徐凯", "孙丽", "马超", "胡悦", "高翔")

SERVICE_TYPE_ZH: dict[str, str] = {
    "first_maintenance": "首保",
    "maintenance": "定保",
    "repair": "一般维修",
    "warranty": "索赔",
    "body_paint": "钣喷",
    "other": "其他",
}
_STYPES = ("first_maintenance", "maintenance", "repair", "warranty", "body_paint", "other")
_ST_FIRST, _ST_MAINT, _ST_REPAIR, _ST_WARRANTY, _ST_BODY, _ST_OTHER = range(6)
_ST_TEXT_KIND = (
    text.KIND_MAINT,
    text.KIND_MAINT,
    text.KIND_REPAIR,
    text.KIND_REPAIR,
    text.KIND_BODY,
    text.KIND_OTHER,
)

_PARTS: tuple[tuple[str, ...], ...] = (
    ("机油", "机油滤芯", "空气滤芯", "空调滤芯", "刹车油", "火花塞", "雨刮片", "轮胎", "电瓶"),
    ("机油", "机油滤芯", "空气滤芯", "空调滤芯", "刹车油", "火花塞", "雨刮片", "变速箱油", "轮胎", "电瓶"),
    ("刹车片", "刹车盘", "减震器", "空调", "电瓶", "发电机", "起动机", "水泵", "节温器", "大灯")
    + ("倒车雷达", "胎压传感器", "点火线圈", "底盘异响", "方向机", "雨刮电机"),
    (
        "中控屏",
        "天窗",
        "车窗升降器",
        "空调压缩机",
        "变速箱",
        "发动机异响",
        "水泵",
        "仪表盘",
        "门锁",
        "后视镜",
    ),
    ("前保险杠", "后保险杠", "左前门", "右后门", "右后叶子板", "左前翼子板", "引擎盖", "后备箱盖"),
    ("行车记录仪", "贴膜", "脚垫", "轮胎", "玻璃", "车内异味"),
)

OVERALL_LABELS: tuple[str, ...] = ("非常满意", "满意", "一般", "不满意", "非常不满意")
_OVERALL_SCORE = np.array([10.0, 8.0, 6.0, 4.0, 2.0])
_UNREACHED = ("未接通", "无人接听", "关机", "拒接")
_UNREACHED_P = np.array([0.4, 0.3, 0.15, 0.15])
COMPLAINT_CATEGORIES: dict[str, str] = {
    "attitude": "服务态度",
    "quality": "维修质量",
    "waiting": "维修时效",
    "price": "收费",
    "lounge": "环境设施",
    "car_wash": "环境设施",
    "meals": "环境设施",
    "callback": "回访/预约",
    "appointment": "回访/预约",
    "delivery": "其他",
    "other": "其他",
}
_LEVEL_LIMIT_HOURS = np.array([24, 48, 72, 24])
CHURN_REASONS: tuple[str, ...] = (
    "",
    "complaint",
    "bad_experience",
    "price",
    "warranty_end",
    "moved",
    "drifted",
)

# Chinese New Year (the store closes over it; the weeks before it are busy).
_CNY: tuple[date, ...] = (
    date(2014, 1, 31), date(2015, 2, 19), date(2016, 2, 8), date(2017, 1, 28), date(2018, 2, 16),
    date(2019, 2, 5), date(2020, 1, 25), date(2021, 2, 12), date(2022, 2, 1), date(2023, 1, 22),
    date(2024, 2, 10), date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6), date(2028, 1, 26),
    date(2029, 2, 13), date(2030, 2, 3), date(2031, 1, 23), date(2032, 2, 11), date(2033, 1, 31),
    date(2034, 2, 19), date(2035, 2, 8), date(2036, 1, 28), date(2037, 2, 15), date(2038, 2, 4),
    date(2039, 1, 24), date(2040, 2, 12),
)  # fmt: skip

# Vehicles simulated per store at scale 1.0; about 10,000 of them show up in the window.
BASE_VEHICLES = 10_600
# Above this many callback rows, write callbacks as CSV: XLSX writing is slow.
XLSX_MAX_ROWS = 150_000
DEFAULT_FILES_DIR = DATA_DIR / "demo_files"


@dataclass(frozen=True)
class DemoConfig:
    """Parameters of the simulated dealership; equal configs give identical data."""

    seed: int = 7
    stores: int = 1
    scale: float = 1.0
    end: date = date(2026, 10, 31)
    years: int = 3

    @property
    def start(self) -> date:
        """Return the first day of the window (``years`` years before the day after ``end``)."""
        nxt = self.end + timedelta(days=1)
        try:
            return nxt.replace(year=nxt.year - self.years)
        except ValueError:  # 29 February
            return nxt.replace(year=nxt.year - self.years, day=28)

    @property
    def days(self) -> int:
        """Return the number of days in the window."""
        return (self.end - self.start).days + 1


@dataclass
class _Calendar:
    """Day-indexed facts of the window; day 0 is ``cfg.start``."""

    start: np.datetime64
    days: int
    month: np.ndarray  # 1..12 per day
    cny_rel: np.ndarray  # days since the nearest Chinese New Year (negative before it)
    wait_factor: np.ndarray
    renovation_day: int
    pickup_day: int
    overload_day: int


def _month_start_before(end: date, months: int) -> date:
    y, m = end.year, end.month - months
    while m <= 0:
        m += 12
        y -= 1
    return date(y, m, 1)


def _calendar(cfg: DemoConfig) -> _Calendar:
    start = cfg.start
    n = cfg.days
    dates = np.datetime64(start, "D") + np.arange(n)
    month = (dates.astype("datetime64[M]").astype(int) % 12) + 1
    cny_days = np.array([(c - start).days for c in _CNY])
    pos = np.arange(n)
    # nearest CNY to each day
    diffs = pos[:, None] - cny_days[None, :]
    nearest = np.abs(diffs).argmin(axis=1)
    cny_rel = diffs[pos, nearest]
    wait = np.ones(n)
    wait[(cny_rel >= -21) & (cny_rel < -1)] = 1.35
    wait[np.isin(month, (7, 8))] *= 1.2
    return _Calendar(
        start=np.datetime64(start, "D"),
        days=n,
        month=month,
        cny_rel=cny_rel,
        wait_factor=wait,
        renovation_day=(_month_start_before(cfg.end, 18) - start).days,
        pickup_day=(_month_start_before(cfg.end, 4) - start).days,
        overload_day=(_month_start_before(cfg.end, 2) - start).days,
    )


# ---------------------------------------------------------------------------------------------
# People and identifiers.


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    p = _SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum()
    sur = rng.choice(len(_SURNAMES), n, p=p)
    female = rng.random(n) < 0.42
    two = rng.random(n) < 0.62
    first = rng.integers(0, len(_GIVEN_FIRST), n)
    male_i = rng.integers(0, len(_GIVEN_MALE), n)
    female_i = rng.integers(0, len(_GIVEN_FEMALE), n)
    out = np.empty(n, dtype=object)
    for i in range(n):
        last = _GIVEN_FEMALE[female_i[i]] if female[i] else _GIVEN_MALE[male_i[i]]
        given = (_GIVEN_FIRST[first[i]] + last) if two[i] else last
        out[i] = _SURNAMES[sur[i]] + given
    return out


def _distinct_names(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        for name in _names(rng, n):
            if name not in taken and len(out) < n:
                taken.add(name)
                out.append(name)
    return out


def _phones(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = rng.choice(_PHONE_PREFIXES, n)
    rest = rng.integers(0, 100_000_000, n)
    out = np.array([f"{p}{r:08d}" for p, r in zip(prefix, rest, strict=True)], dtype=object)
    # A few wrong numbers: a digit missing, or a landline where a mobile belongs.
    bad = np.flatnonzero(rng.random(n) < 0.003)
    for k, i in enumerate(bad):
        out[i] = out[i][:-1] if k % 2 == 0 else f"0571-8{rest[i] % 10_000_000:07d}"
    return out


_PLATE_LETTERS = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
_DIGITS = np.array(list("0123456789"))


def _plates(rng: np.random.Generator, n: int, local: str, far: np.ndarray) -> np.ndarray:
    # Owners living or working away from the store's city carry their own city's plates.
    prefix = np.where(far, rng.choice(np.array(_OTHER_PLATES), n), local).astype(object)
    letters = rng.choice(_PLATE_LETTERS, (n, 5))
    digits = rng.choice(_DIGITS, (n, 5))
    pattern = rng.choice(5, n, p=[0.4, 0.33, 0.1, 0.07, 0.1])
    # pattern 0 DDDDD, 1 LDDDD, 2 DLDDD, 3 LLDDD, 4 new-energy D + 5 digits
    chars = digits.copy()
    chars[pattern == 1, 0] = letters[pattern == 1, 0]
    chars[pattern == 2, 1] = letters[pattern == 2, 1]
    chars[pattern == 3, :2] = letters[pattern == 3, :2]
    body = np.array(["".join(row) for row in chars.tolist()], dtype=object)
    out = np.where(pattern == 4, prefix + "D" + body, prefix + body)
    # Redraw duplicates with two letters at random places (millions of plates per city), so
    # each car has its own plate within the store even at large scales.
    while True:
        dup = pd.Series(out).duplicated().to_numpy()
        k = int(dup.sum())
        if k == 0:
            return out
        chars = rng.choice(_DIGITS, (k, 5))
        rows = np.arange(k)
        first = rng.integers(0, 5, k)
        second = (first + rng.integers(1, 5, k)) % 5
        chars[rows, first] = rng.choice(_PLATE_LETTERS, k)
        chars[rows, second] = rng.choice(_PLATE_LETTERS, k)
        out[dup] = prefix[dup] + np.array(["".join(row) for row in chars.tolist()], dtype=object)


_VIN_VALUES = {**{str(d): d for d in range(10)}}
_VIN_VALUES.update(dict(zip("ABCDEFGH", range(1, 9), strict=True)))
_VIN_VALUES.update(dict(zip("JKLMN", range(1, 6), strict=True)))
_VIN_VALUES.update({"P": 7, "R": 9})
_VIN_VALUES.update(dict(zip("STUVWXYZ", range(2, 10), strict=True)))
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_YEAR = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 2010 = A ... (ISO 3779 30-year cycle)
_VIN_PLANT = "ABCDEFGHJKLMNPRSTUVWXYZ"


def vin_check_digit(vin: str) -> str:
    """Return the ISO 3779 check digit (position 9) the 17-character ``vin`` should carry."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin.upper(), _VIN_WEIGHTS, strict=True))
    r = total % 11
    return "X" if r == 10 else str(r)


_VIN_LUT = np.zeros(128, dtype=np.int64)
for _char, _value in _VIN_VALUES.items():
    _VIN_LUT[ord(_char)] = _value
# Plant letters times six-digit serials: the number of distinct VINs the demo can issue.
VIN_CAPACITY = len(_VIN_PLANT) * 1_000_000


def _vins(rng: np.random.Generator, model: np.ndarray, year: np.ndarray, number: np.ndarray) -> np.ndarray:
    """Return VINs for cars with distinct ``number``s (< VIN_CAPACITY); ~1% get a wrong check digit."""
    n = len(model)
    # Plant letter and serial come from the car's number, so VINs never repeat in a group.
    serial = ((number % 1_000_000) * 7_919 + 104_729) % 1_000_000
    plant = number // 1_000_000
    years = [_VIN_YEAR[(int(y) - 2010) % 30] for y in year]
    bodies = [
        f"{VIN_WMI}{MODELS[m].vds}0{y}{_VIN_PLANT[p]}{s:06d}"
        for m, y, p, s in zip(model.tolist(), years, plant.tolist(), serial.tolist(), strict=True)
    ]
    codes = np.frombuffer("".join(bodies).encode("ascii"), dtype=np.uint8).reshape(n, 17)
    check = (_VIN_LUT[codes] * np.array(_VIN_WEIGHTS)).sum(axis=1) % 11
    wrong = rng.random(n) < 0.01
    # A wrong digit: shift the right one (X counts as 10) by 1-9, never landing on itself.
    check = np.where(wrong, (check + rng.integers(1, 10, n)) % 10, check)
    chars = np.where(check == 10, "X", check.astype(str))
    return np.array([b[:8] + c + b[9:] for b, c in zip(bodies, chars.tolist(), strict=True)], dtype=object)


# ---------------------------------------------------------------------------------------------
# The simulation of one store.


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _pick_weighted(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Return one column index per row of ``weights`` (rows need not sum to one)."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), weights.shape[1] - 1)


@dataclass
class _Staff:
    advisors: list[str]
    adv_effect: np.ndarray
    adv_comeback: np.ndarray
    adv_weight: np.ndarray
    adv_from: np.ndarray  # day
    adv_to: np.ndarray  # day
    overloaded: int  # advisor index overloaded at the end of the window, -1 for none
    agents: list[str]
    agent_reach: np.ndarray
    agent_from: np.ndarray
    sales: list[str]
    sales_effect: np.ndarray


def _staff(rng: np.random.Generator, store: int, days: int) -> _Staff:
    if store == 0:
        adv = _ADVISORS_STORE1
        agents = _AGENTS_STORE1
        sales = list(_SALES_STORE1)
    else:
        taken = {a[0] for a in _ADVISORS_STORE1} | {a[0] for a in _AGENTS_STORE1} | set(_SALES_STORE1)
        n_adv = int(rng.integers(6, 9))
        names = _distinct_names(rng, n_adv + 4 + 4, taken)
        effects = np.round(rng.normal(0.0, 0.18, n_adv), 2)
        joiner = int(rng.integers(2, n_adv))
        adv = tuple(
            (
                names[i],
                float(effects[i]),
                float(np.round(1.0 - effects[i], 2)),
                1.0,
                0.4 if i == joiner else 0.0,
                1.0,
            )
            for i in range(n_adv)
        )
        agents = tuple((names[n_adv + i], float(0.8 + 0.02 * i), 0.3 if i == 3 else 0.0) for i in range(4))
        sales = names[n_adv + 4 :]
    return _Staff(
        advisors=[a[0] for a in adv],
        adv_effect=np.array([a[1] for a in adv]),
        adv_comeback=np.array([a[2] for a in adv]),
        adv_weight=np.array([a[3] for a in adv]),
        adv_from=np.array([int(a[4] * days) for a in adv]),
        adv_to=np.array([days + 1000 if a[5] >= 1.0 else int(a[5] * days) for a in adv]),
        overloaded=1 if store == 0 else -1,
        agents=[a[0] for a in agents],
        agent_reach=np.array([a[1] for a in agents]),
        agent_from=np.array([int(a[2] * days) for a in agents]),
        sales=sales,
        sales_effect=np.round(rng.normal(0.05, 0.15, len(sales)), 2),
    )


@dataclass
class _Fleet:
    """One row per simulated vehicle of a store."""

    model: np.ndarray
    purchase: np.ndarray  # day index (negative: before the window)
    kmpd: np.ndarray
    ride: np.ndarray
    punct: np.ndarray
    sens: np.ndarray
    gen: np.ndarray  # generosity: how kindly this customer scores
    appt: np.ndarray
    rep: np.ndarray
    leave_day: np.ndarray
    leave_reason: np.ndarray
    warranty_end: np.ndarray
    warranty_leaver: np.ndarray
    skip: np.ndarray  # chance of having a routine maintenance done elsewhere
    far: np.ndarray  # lives or works away from the store's city (a plate from elsewhere)


# Share of owners from away: as many as the plates from other cities (13%) the demo always had.
_FAR_SHARE = 0.13


def _fleet(rng: np.random.Generator, cal: _Calendar, n: int) -> _Fleet:
    weights = np.array([m.weight for m in MODELS])
    model = rng.choice(len(MODELS), n, p=weights / weights.sum())
    pre = rng.random(n) < 0.62
    # Ages of the base: a truncated exponential, most cars a few years old, some eight.
    u = rng.random(n)
    age_years = -4.0 * np.log(1.0 - u * (1.0 - math.exp(-2.0)))
    day_w = np.where(np.isin(cal.month, (9, 10, 12)), 1.2, np.where(cal.month == 2, 0.7, 1.0))
    new_day = rng.choice(cal.days, n, p=day_w / day_w.sum())
    purchase = np.where(pre, -np.maximum(30, np.round(age_years * 365.25)).astype(int), new_day)
    kmpd = np.exp(rng.normal(math.log(32.0), 0.45, n))
    ride = rng.random(n) < 0.035
    kmpd = np.where(ride, rng.uniform(150.0, 260.0, n), kmpd)
    sens = np.where(ride, rng.beta(5.0, 2.0, n), rng.beta(2.0, 3.0, n))
    since = np.maximum(purchase, 0)
    moved = since + rng.exponential(365.25 / 0.03, n)
    drift = since + rng.exponential(365.25 / 0.07, n)
    leave_day = np.minimum(moved, drift)
    leave_reason = np.where(moved <= drift, CHURN_REASONS.index("moved"), CHURN_REASONS.index("drifted"))
    warranty_end = purchase + np.minimum(3 * 365.25, 100_000.0 / kmpd)
    return _Fleet(
        model=model,
        purchase=purchase,
        kmpd=kmpd,
        ride=ride,
        punct=np.exp(rng.normal(0.2, 0.22, n)),
        sens=sens,
        gen=rng.normal(0.0, 0.35, n),
        appt=rng.normal(0.0, 0.8, n),
        rep=np.exp(rng.normal(0.0, 0.35, n)),
        leave_day=leave_day,
        leave_reason=leave_reason,
        warranty_end=warranty_end,
        warranty_leaver=rng.random(n) < 0.18 + 0.4 * sens,
        skip=rng.beta(2.0, 6.0, n),
        far=rng.random(n) < _FAR_SHARE,
    )


_MODEL_MAINT_KM = np.array([m.maint_km for m in MODELS], dtype=float)
_MODEL_MAINT_DAYS = np.array([m.maint_months * 30.44 for m in MODELS])
_MODEL_FIRST_KM = np.array([m.first_km for m in MODELS], dtype=float)
_MODEL_FIRST_DAYS = np.array([m.first_months * 30.44 for m in MODELS])
_MODEL_MAINT_REF = np.array([m.maint_ref for m in MODELS])
_MODEL_REPAIR = np.array([m.repair_factor for m in MODELS])
# Expected time in the shop by service type, minutes (body & paint counts in days, below).
_EXPECTED_MIN = np.array([60.0, 80.0, 150.0, 180.0, 60.0, 45.0])
_COMEBACK_P = np.array([0.008, 0.01, 0.05, 0.05, 0.04, 0.005])


def _interval_days(fleet: _Fleet, v: np.ndarray, first: np.ndarray) -> np.ndarray:
    m = fleet.model[v]
    km = np.where(first, _MODEL_FIRST_KM[m], _MODEL_MAINT_KM[m])
    cap = np.where(first, _MODEL_FIRST_DAYS[m], _MODEL_MAINT_DAYS[m])
    return np.minimum(km / fleet.kmpd[v], cap)


# Due-maintenance invitations (到期保养邀约). The CS team works the store's due list: the store's
# DMS reminds every model on one rule, the dashboard's default schedule (data/schedule.toml:
# first maintenance 5,000 km or 180 days from purchase, then 7,500 km or 270 days from the last
# maintenance at the store, whichever first), so a maintenance done elsewhere leaves the store
# with a stale due date and no call. Only the call is simulated; whether the customer comes
# follows from who was reached and who booked.
_REMIND_FIRST_KM, _REMIND_FIRST_DAYS = 5000.0, 180.0
_REMIND_KM, _REMIND_DAYS = 7500.0, 270.0
# Days before the due date the call is made ("保养周期到达前的提醒", seed 002): one to ten days.
_REMIND_LEAD = (1, 11)
# A reached customer with no particular history books with this chance (a modelling choice: the
# seeds give no booking share of reached customers, only the outcome targets, which are not used).
_BOOK_BASE = 0.6
# After an unsatisfied visit or a complaint only 38% of customers still choose the store (seed 002:
# "忠诚客户容忍度 38%"); owners from away book 40% less (a modelling choice); a customer with two or
# more maintenance visits at the store is loyal (+0.5 on the log-odds).
_BOOK_AFTER_BAD = 0.38
_BOOK_FAR = 0.6
_BOOK_LOYAL = 0.5


@dataclass
class _Invitations:
    """The calls made: one entry per due-maintenance call made in the window (hidden truth)."""

    vehicle: list[np.ndarray]
    call_day: list[np.ndarray]
    due_day: list[np.ndarray]
    reached: list[np.ndarray]
    booked: list[np.ndarray]


def _invite(
    rng: np.random.Generator, cal: _Calendar, fleet: _Fleet, staff: _Staff, v: np.ndarray, now: np.ndarray,
    anchor: np.ndarray, first: np.ndarray, natural: np.ndarray, bad: np.ndarray, loyal: np.ndarray,
    log: _Invitations,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Return (day of the next maintenance, booked by the call) for vehicles ``v`` whose next
    maintenance would naturally come on ``natural``: the store calls them a few days before the
    due date its DMS computes from ``anchor`` (its last maintenance, or the purchase when
    ``first``), unless they came before the call; a reached customer may book a visit."""
    m = v.size
    W = cal.days
    km = np.where(first, _REMIND_FIRST_KM, _REMIND_KM)
    cap = np.where(first, _REMIND_FIRST_DAYS, _REMIND_DAYS)
    due = anchor + np.floor(np.minimum(cap, km / fleet.kmpd[v]))
    call = np.floor(due - rng.integers(*_REMIND_LEAD, m)).astype(np.int64)
    # The team calls the due list as diligently as it calls after a maintenance visit (the 3DC
    # attempt share of _callbacks_3dc, rising over the window).
    p_try = 0.82 * (0.86 + 0.14 * np.clip(call / W, 0.0, 1.0))
    tried = (call > now) & (call < natural) & (call < W) & (rng.random(m) < p_try)
    ti = np.flatnonzero(tried)
    # Reaching the customer: the agents' reach, a second attempt after about half the misses (as
    # for the 3DC callbacks).
    agent = _pick_agents(rng, staff, np.maximum(call[ti], 0))
    first_try = rng.random(ti.size) < staff.agent_reach[agent]
    second_try = ~first_try & (rng.random(ti.size) < 0.55) & (rng.random(ti.size) < 0.78)
    reached = first_try | second_try
    reach_day = call[ti] + np.where(second_try, rng.integers(1, 3, ti.size), 0)
    vv = v[ti]
    p_book = (
        _sigmoid(math.log(_BOOK_BASE / (1.0 - _BOOK_BASE)) + fleet.appt[vv] + _BOOK_LOYAL * loyal[ti])
        * np.where(bad[ti], _BOOK_AFTER_BAD, 1.0)
        * np.where(fleet.far[vv], _BOOK_FAR, 1.0)
    )
    booked = reached & (rng.random(ti.size) < p_book)
    # The appointment is for a day in the next two weeks.
    book_day = reach_day + rng.integers(1, 15, ti.size)
    visit = natural.copy()
    visit[ti[booked]] = np.minimum(natural[ti[booked]], book_day[booked])
    out = np.zeros(m, bool)
    out[ti[booked]] = True
    seen = (call[ti] >= 0) & (reach_day < W)
    log.vehicle.append(vv[seen])
    log.call_day.append(reach_day[seen])
    log.due_day.append(due[ti][seen].astype(np.int64))
    log.reached.append(reached[seen])
    log.booked.append(booked[seen])
    return visit, out


def _simulate_visits(
    rng: np.random.Generator, cal: _Calendar, fleet: _Fleet, staff: _Staff
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, _Invitations]:
    """Return the visits (one entry per work order), each vehicle's churn reason and day, and the
    due-maintenance calls made."""
    n = len(fleet.model)
    W = cal.days
    pre = fleet.purchase < 0
    all_v = np.arange(n)
    first_gap = _interval_days(fleet, all_v, np.ones(n, bool))
    punct_first = np.minimum(fleet.punct, 1.1) * np.exp(rng.normal(0, 0.12, n))
    first_done = pre & (-fleet.purchase > first_gap * punct_first)
    maint_gap = _interval_days(fleet, all_v, np.zeros(n, bool)) * fleet.punct
    last_maint = np.where(first_done, -rng.random(n) * maint_gap, fleet.purchase.astype(float))
    t_last = last_maint.copy()
    next_maint = np.where(
        first_done,
        last_maint + maint_gap * np.exp(rng.normal(0, 0.12, n)),
        fleet.purchase + first_gap * punct_first,
    )
    odo = np.where(
        pre,
        fleet.kmpd * np.maximum(t_last - fleet.purchase, 0) * np.exp(rng.normal(0, 0.08, n)),
        rng.uniform(5, 60, n),
    )
    n_maint = np.where(first_done, rng.integers(1, 4, n), 0)
    # What the store knows: its last maintenance of the vehicle (the history before the window is
    # taken as done here), how many it did, and how the customer felt about the last visit.
    store_anchor = np.where(first_done, last_maint, fleet.purchase.astype(float))
    store_maint = n_maint.copy()
    unhappy = np.zeros(n, bool)
    calls = _Invitations([], [], [], [], [])
    next_maint, booked = _invite(
        rng, cal, fleet, staff, all_v, np.floor(t_last), store_anchor, ~first_done, next_maint, unhappy,
        store_maint >= 2, calls,
    )  # fmt: skip
    forced = np.full(n, np.inf)
    prev_adv = np.full(n, -1)
    alive = np.ones(n, bool)
    # 1% of buyers never come back to the store after the delivery.
    alive &= ~((~pre) & (rng.random(n) < 0.01))
    churn_reason = np.zeros(n, dtype=np.int8)
    churn_day = np.full(n, -1)
    out: list[dict[str, np.ndarray]] = []
    frac_of = 1.0 / W

    while True:
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        m = idx.size
        tl = t_last[idx]
        age_y = np.maximum(0.0, (tl - fleet.purchase[idx]) / 365.25)
        rate = (
            _MODEL_REPAIR[fleet.model[idx]] * fleet.rep[idx] * (0.08 + 0.07 * age_y + 0.02 * odo[idx] / 1e4)
        )
        cand = np.stack(
            [
                next_maint[idx],
                tl + rng.exponential(1.0, m) * 365.25 / rate,
                tl + rng.exponential(365.25 / 0.05, m),
                tl + rng.exponential(365.25 / 0.06, m),
                forced[idx],
            ],
            axis=1,
        )
        kind = cand.argmin(axis=1)
        t = np.maximum(np.floor(cand.min(axis=1)), tl + 1).astype(np.int64)
        # The store closes over Chinese New Year; maintenance due just after it is pulled forward.
        inw = (t >= 0) & (t < W)
        tc = np.clip(t, 0, W - 1)
        rel = cal.cny_rel[tc]
        closed = inw & (rel >= -1) & (rel <= 5)
        t = np.where(closed, t - rel + 6 + rng.integers(0, 4, m), t)
        u_rush = rng.random(m)
        rush_to = t - rel - rng.integers(3, 21, m)
        rush = inw & ~closed & (kind == 0) & (rel >= 6) & (rel <= 35) & (u_rush < 0.35) & (rush_to > tl)
        t = np.where(rush, rush_to, t)

        leave = t >= fleet.leave_day[idx]
        w_end = fleet.warranty_end[idx]
        w_leave = (
            fleet.warranty_leaver[idx]
            & (w_end >= 0)
            & (t >= w_end)
            & (kind != 4)
            & (fleet.ride[idx] | (kind <= 1))
        )
        beyond = t >= W
        gone = (leave & (fleet.leave_day[idx] < W)) | (w_leave & (w_end < W))
        stop = gone | beyond
        vi = idx[gone]
        by_warranty = w_leave[gone] & ~(leave[gone] & (fleet.leave_day[vi] <= w_end[gone]))
        churn_reason[vi] = np.where(by_warranty, CHURN_REASONS.index("warranty_end"), fleet.leave_reason[vi])
        churn_day[vi] = t_last[vi].astype(np.int64)
        alive[idx[stop]] = False

        keep = ~stop
        idx, t, kind = idx[keep], t[keep], kind[keep]
        m = idx.size
        if m == 0:
            continue
        tl = t_last[idx]
        first_visit = (kind == 0) & ~first_done[idx]
        odo_new = odo[idx] + fleet.kmpd[idx] * (t - tl) * np.exp(rng.normal(0, 0.2, m))
        under_w = (t < fleet.warranty_end[idx]) & (odo_new < 100_000)
        u = rng.random((m, 4))
        stype = np.select(
            [kind == 0, kind == 1, kind == 2, kind == 3],
            [
                np.where(first_visit, _ST_FIRST, _ST_MAINT),
                np.where(under_w & (u[:, 0] < 0.45), _ST_WARRANTY, _ST_REPAIR),
                _ST_BODY,
                _ST_OTHER,
            ],
            default=np.where(under_w & (u[:, 0] < 0.6), _ST_WARRANTY, _ST_REPAIR),
        )
        # Some routine maintenance is done at an independent garage, more often after warranty.
        p_skip = fleet.skip[idx] + 0.3 * fleet.sens[idx] * ~under_w
        # A customer who booked on the store's call comes here.
        elsewhere = (kind == 0) & ~first_visit & ~booked[idx] & (u[:, 1] < p_skip)
        rec = (t >= 0) & ~elsewhere
        if rec.any():
            visits = _visit_experience(
                rng, cal, fleet, staff, idx[rec], t[rec], stype[rec], (kind == 4)[rec],
                odo_new[rec], n_maint[idx[rec]], prev_adv[idx[rec]], frac_of, (booked[idx] & (kind == 0))[rec],
            )  # fmt: skip
            out.append(visits)
            vr = idx[rec]
            prev_adv[vr] = visits["advisor"]
            forced[vr] = np.where(visits["comeback"], t[rec] + rng.integers(2, 15, vr.size), np.inf)
            # Leaving after this visit: bad experiences, complaints and big bills weigh most.
            o = visits["overall"]
            unhappy[vr] = (o < _LABEL_CUTS[2]) | visits["complaint"]
            big_bill = (visits["shock"] > 2.5) & (visits["amount"] > 1500)
            comp = np.stack(
                [
                    0.30 * visits["complaint"],
                    0.28 * (o < _LABEL_CUTS[2]) + 0.10 * ((o >= _LABEL_CUTS[2]) & (o < _LABEL_CUTS[1])),
                    0.25 * fleet.sens[vr] * big_bill,
                    0.02 + 0.06 * (visits["stype"] == _ST_FIRST) + 0.03 * fleet.ride[vr],
                ],
                axis=1,
            )
            p_leave = np.minimum(comp.sum(axis=1), 0.85)
            leaves = rng.random(vr.size) < p_leave
            why = _pick_weighted(rng, comp[leaves])
            reason_codes = np.array(
                [CHURN_REASONS.index(r) for r in ("complaint", "bad_experience", "price", "drifted")]
            )
            churn_reason[vr[leaves]] = reason_codes[why]
            churn_day[vr[leaves]] = t[rec][leaves]
            alive[vr[leaves]] = False
        # Pre-window history and maintenance done elsewhere only move the state forward.
        forced[idx[~rec]] = np.inf
        is_maint = kind == 0
        mi = idx[is_maint]
        n_maint[mi] += 1
        first_done[mi] = True
        gap = _interval_days(fleet, mi, np.zeros(mi.size, bool)) * fleet.punct[mi]
        natural = t[is_maint] + gap * np.exp(rng.normal(0, 0.12, mi.size))
        here = ~elsewhere[is_maint]
        store_anchor[mi[here]] = t[is_maint][here]
        store_maint[mi[here]] += 1
        next_maint[mi], booked[mi] = _invite(
            rng, cal, fleet, staff, mi, t[is_maint], store_anchor[mi], np.zeros(mi.size, bool), natural,
            unhappy[mi], store_maint[mi] >= 2, calls,
        )  # fmt: skip
        t_last[idx] = t
        odo[idx] = odo_new

    visits = {k: np.concatenate([o[k] for o in out]) for k in out[0]} if out else {}
    # Calls are drawn when the maintenance is scheduled; a customer who has left by the call
    # (a defection, a move, drifting off) declines: lost customers stay lost.
    for k, veh in enumerate(calls.vehicle):
        calls.booked[k] = calls.booked[k] & ~((churn_reason[veh] > 0) & (calls.call_day[k] > churn_day[veh]))
    return visits, churn_reason, churn_day, calls


def _visit_experience(
    rng: np.random.Generator,
    cal: _Calendar,
    fleet: _Fleet,
    staff: _Staff,
    v: np.ndarray,
    t: np.ndarray,
    stype: np.ndarray,
    is_comeback_visit: np.ndarray,
    odo: np.ndarray,
    n_maint: np.ndarray,
    prev_adv: np.ndarray,
    frac_of: float,
    invited: np.ndarray,
) -> dict[str, np.ndarray]:
    """Return what happened at each visit: advisor, bill, waiting, issues and felt scores;
    ``invited`` marks maintenance booked on the store's due-maintenance call."""
    m = v.size
    frac = t * frac_of
    model = fleet.model[v]
    # Advisor: most customers stay with the one they had, if that one still works here.
    active = (staff.adv_from[None, :] <= t[:, None]) & (t[:, None] <= staff.adv_to[None, :])
    drawn = _pick_weighted(rng, active * staff.adv_weight[None, :])
    prev_ok = (prev_adv >= 0) & active[np.arange(m), np.maximum(prev_adv, 0)]
    advisor = np.where(prev_ok & (rng.random(m) < 0.7), prev_adv, drawn)
    repairish = (stype == _ST_REPAIR) | (stype == _ST_WARRANTY)
    overloaded = (advisor == staff.overloaded) & repairish & (t >= cal.overload_day)

    # Booked on the customer's own initiative: maintenance as often as repairs, since the store's
    # due-maintenance calls (invited) now bring the bookings a CS team makes.
    base_appt = np.array([0.12, 0.12, 0.12, 0.12, 0.08, 0.05])[stype]
    gain = np.array([0.10, 0.10, 0.10, 0.10, 0.04, 0.02])[stype]
    p_appt = _sigmoid(np.log((base_appt + gain * frac) / (1 - base_appt - gain * frac)) + fleet.appt[v])
    appointment = invited | (rng.random(m) < p_appt)
    since_pickup = (t - cal.pickup_day) / 150.0
    pickup = (
        (t >= cal.pickup_day)
        & (stype <= _ST_WARRANTY)
        & (rng.random(m) < 0.12 + 0.18 * np.clip(since_pickup, 0, 1))
    )

    season = cal.wait_factor[np.clip(t, 0, cal.days - 1)]
    ratio = (
        season
        * np.where(appointment, 0.82, 1.0)
        * np.where(overloaded, 1.45, 1.0)
        * np.exp(rng.normal(0, 0.3, m))
    )
    wait_min = np.round(_EXPECTED_MIN[stype] * ratio)
    days_in = np.maximum(1, np.round(3 * ratio * np.exp(rng.normal(0, 0.3, m)))).astype(np.int64)
    perceived = np.where(pickup, 0.6, ratio)

    # The bill, and what this customer expected to pay for such a visit.
    years = t / 365.25
    inflation = 1.0 + 0.03 * years
    age_y = np.maximum(0.0, (t - fleet.purchase[v]) / 365.25)
    big = (n_maint % 3) == 2
    ref = (
        np.select(
            [
                stype == _ST_FIRST,
                stype == _ST_MAINT,
                stype == _ST_REPAIR,
                stype == _ST_WARRANTY,
                stype == _ST_BODY,
            ],
            [
                np.full(m, 150.0),
                _MODEL_MAINT_REF[model] * np.where(big, 1.7, 1.0),
                600.0 * _MODEL_REPAIR[model],
                150.0,
                2500.0,
            ],
            default=200.0,
        )
        * inflation
    )
    u = rng.random((m, 3))
    amount = np.select(
        [
            stype == _ST_FIRST,
            stype == _ST_MAINT,
            stype == _ST_REPAIR,
            stype == _ST_WARRANTY,
            stype == _ST_BODY,
        ],
        [
            np.where(u[:, 0] < 0.75, 0.0, rng.uniform(80, 320, m)),
            ref * np.exp(rng.normal(0, 0.18, m)),
            450.0 * _MODEL_REPAIR[model] * (1 + 0.12 * age_y) * np.exp(rng.normal(0, 0.85, m)) * inflation,
            np.where(u[:, 0] < 0.85, 0.0, rng.uniform(50, 400, m)),
            2200.0 * np.exp(rng.normal(0, 0.7, m)) * inflation,
        ],
        default=180.0 * np.exp(rng.normal(0, 0.6, m)),
    )
    amount = np.where(is_comeback_visit & (u[:, 1] < 0.8), 0.0, amount)
    labour_share = np.where(stype == _ST_BODY, rng.uniform(0.45, 0.6, m), rng.uniform(0.3, 0.5, m))
    labour = np.round(amount * labour_share)
    parts = np.round(amount - labour, 2) - np.where(u[:, 2] < 0.5, 0.0, np.round(rng.uniform(0, 0.99, m), 2))
    parts = np.maximum(parts, 0.0)
    amount = np.round(labour + parts, 2)
    shock = amount / ref

    p_cb = _COMEBACK_P[stype] * staff.adv_comeback[advisor] * np.where(is_comeback_visit, 0.3, 1.0)
    comeback = rng.random(m) < p_cb + 0.05 * overloaded
    in_store = ~pickup & (stype != _ST_BODY)
    renovated = t >= cal.renovation_day
    lounge_issue = in_store & (rng.random(m) < np.where(renovated, 0.015, 0.11))
    wash_issue = rng.random(m) < 0.035
    meal_issue = in_store & (rng.random(m) < 0.01 + 0.06 * (wait_min > 100))

    g = fleet.gen[v]
    noise = rng.normal(0.0, 1.0, (m, 6))
    att = 4.45 + staff.adv_effect[advisor] - 0.9 * overloaded + 0.6 * g + 0.45 * noise[:, 0]
    qual = 4.6 - 2.3 * comeback - 0.15 * repairish + 0.5 * g + 0.4 * noise[:, 1]
    timely = 4.85 - 1.4 * np.maximum(0.0, perceived - 0.85) + 0.3 * pickup + 0.5 * g + 0.4 * noise[:, 2]
    price = 4.75 - 2.0 * fleet.sens[v] * np.maximum(0.0, shock - 0.8) + 0.2 * (amount == 0) + 0.4 * g
    price = price + 0.4 * noise[:, 3]
    env = np.where(renovated, 4.6, 4.05) - 1.1 * lounge_issue - 0.8 * wash_issue - 0.6 * meal_issue
    env = env + 0.4 * g + 0.45 * noise[:, 4]
    overall = (
        0.20 * att + 0.35 * qual + 0.25 * timely + 0.15 * price + 0.05 * env + 0.3 * g + 0.28 * noise[:, 5]
    )
    p_complaint = _sigmoid(-2.9 + 4.0 * (3.9 - overall)) + 0.1 * comeback
    complaint = rng.random(m) < p_complaint

    # Keying errors: a digit too many or too few on about 0.5% of odometer readings.
    mileage = np.round(odo).astype(np.int64)
    slip = rng.random(m)
    mileage = np.where(slip < 0.0025, mileage // 10, mileage)
    mileage = np.where((slip >= 0.0025) & (slip < 0.005), mileage * 10 + (mileage % 7), mileage)
    part_u = rng.random(m)
    return {
        "vehicle": v,
        "day": t,
        "stype": stype,
        "advisor": advisor,
        "appointment": appointment,
        "invited": invited,
        "pickup": pickup,
        "mileage": mileage,
        "amount": amount,
        "labour": labour,
        "parts": np.round(amount - labour, 2),
        "wait_min": wait_min,
        "days_in": days_in,
        "comeback": comeback,
        "lounge_issue": lounge_issue,
        "wash_issue": wash_issue,
        "meal_issue": meal_issue,
        "shock": shock,
        "part_u": part_u,
        "att": att,
        "qual": qual,
        "timely": timely,
        "price": price,
        "env": env,
        "overall": overall,
        "complaint": complaint,
    }


# Latent satisfaction cut into the five labels (非常满意 .. 非常不满意).
_LABEL_CUTS = (4.5, 3.95, 3.45, 3.1)


def _labels(overall: np.ndarray) -> np.ndarray:
    """Return the overall label index (0 非常满意 .. 4 非常不满意) of latent satisfaction."""
    return np.select(
        [
            overall >= _LABEL_CUTS[0],
            overall >= _LABEL_CUTS[1],
            overall >= _LABEL_CUTS[2],
            overall >= _LABEL_CUTS[3],
        ],
        [0, 1, 2, 3],
        default=4,
    )


def _score5(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 1, 5)


def _recommend(rng: np.random.Generator, overall: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(2.6 * (overall - 1.0) + rng.normal(0, 1.0, overall.size)), 0, 10)


_PRAISE_ASPECTS = (
    "attitude", "waiting", "quality", "price", "car_wash", "lounge", "meals",
    "appointment", "callback", "pickup", "expertise",
)  # fmt: skip
_SALES_PRAISE_ASPECTS = ("attitude", "delivery", "expertise", "price", "waiting")
_SALES_COMPLAINT_ASPECTS = ("waiting", "price", "delivery", "attitude", "other")


def _aspect_codes(names: tuple[str, ...], picks: np.ndarray) -> np.ndarray:
    codes = np.array([text.ASPECT_INDEX[a] for a in names])
    return codes[picks]


def _complaint_aspect(rng: np.random.Generator, vis: dict[str, np.ndarray], sel: np.ndarray, late: np.ndarray,
                      renovated: np.ndarray) -> np.ndarray:  # fmt: skip
    """Return the aspect code a complaint speaks of: the worst-felt dimension and its cause."""
    dims = np.stack([vis[k][sel] for k in ("att", "qual", "timely", "price", "env")], axis=1)
    worst = (dims + rng.normal(0, 0.15, dims.shape)).argmin(axis=1)
    u = rng.random((sel.size, 3))
    env_aspect = np.select(
        [vis["lounge_issue"][sel], vis["wash_issue"][sel], vis["meal_issue"][sel]],
        ["lounge", "car_wash", "meals"],
        default=np.where(
            ~renovated & (u[:, 0] < 0.6), "lounge", np.where(u[:, 0] < 0.8, "car_wash", "meals")
        ),
    )
    time_aspect = np.where(vis["appointment"][sel] & (u[:, 1] < 0.5), "appointment", "waiting")
    names = np.select(
        [worst == 0, worst == 1, worst == 2, worst == 3],
        ["attitude", "quality", time_aspect, "price"],
        default=env_aspect,
    )
    names = np.where(late & (u[:, 2] < 0.3), "callback", names)
    names = np.where(u[:, 2] > 0.96, "other", names)
    return np.array([text.ASPECT_INDEX[a] for a in names])


def _praise_weights(vis: dict[str, np.ndarray], sel: np.ndarray, renovated: np.ndarray) -> np.ndarray:
    st = vis["stype"][sel]
    repairish = (st >= _ST_REPAIR) & (st <= _ST_BODY)
    cols = [
        1.0 + 1.5 * (vis["att"][sel] >= 4.8),
        1.5 * (vis["wait_min"][sel] < 0.85 * _EXPECTED_MIN[st]) + 0.2,
        0.3 + 1.0 * repairish * (vis["qual"][sel] >= 4.5),
        0.3 + 0.8 * (vis["price"][sel] >= 4.6) + 1.0 * (st == _ST_FIRST) + 0.8 * (st == _ST_WARRANTY),
        np.full(sel.size, 0.5),
        np.where(renovated, 1.0, 0.1) * (st != _ST_BODY),
        (0.3 + 0.5 * (vis["wait_min"][sel] > 120)) * (st != _ST_BODY),
        1.2 * vis["appointment"][sel],
        np.full(sel.size, 0.2),
        8.0 * vis["pickup"][sel],
        0.6 + 0.6 * repairish,
    ]
    return np.stack(cols, axis=1).astype(float)


@dataclass
class _StoreFrames:
    service: pd.DataFrame
    callbacks: pd.DataFrame
    invitations: pd.DataFrame


def _simulate_store(cfg: DemoConfig, store: int) -> _StoreFrames:
    rng = np.random.default_rng([cfg.seed, store])
    cal = _calendar(cfg)
    name, code, plate_prefix, _company = store_identity(store)
    n = max(20, int(round(BASE_VEHICLES * cfg.scale)))
    staff = _staff(rng, store, cal.days)
    fleet = _fleet(rng, cal, n)
    vis, churn_reason, churn_day, calls = _simulate_visits(rng, cal, fleet, staff)

    # Vehicle identity.
    global_index = np.arange(n, dtype=np.int64) + store * n
    purchase_dates = cal.start + fleet.purchase
    purchase_year = purchase_dates.astype("datetime64[Y]").astype(int) + 1970
    model_year = purchase_year - (rng.random(n) < 0.15)
    vins = _vins(rng, fleet.model, model_year, global_index)
    plates = _plates(rng, n, plate_prefix, fleet.far)
    owners = _names(rng, n)
    phones = _phones(rng, n)
    # 2% of cars are sold on: later orders carry the new owner.
    sold = rng.random(n) < 0.02
    sold_day = rng.integers(0, cal.days, n)
    new_owner = _names(rng, n)
    new_phone = _phones(rng, n)

    service, order_ids = _service_frame(cfg, cal, name, code, fleet, staff, vis, vins, plates, owners, phones,
                                        sold, sold_day, new_owner, new_phone, churn_reason, churn_day)  # fmt: skip
    service["_bad_visit_date"] = _planted_bad_dates(rng, service["visit_date"])
    cb3 = _callbacks_3dc(rng, cal, fleet, staff, vis, order_ids, vins)
    cb7 = _callbacks_7dc(rng, cal, fleet, staff, vins)
    callbacks = pd.concat([cb3, cb7], ignore_index=True)
    callbacks = _finish_callbacks(cfg, cal, callbacks, name, code, plates, owners, phones, service)
    return _StoreFrames(
        service=service, callbacks=callbacks, invitations=_invitation_frame(cal, name, calls, vins)
    )


def _invitation_frame(cal: _Calendar, store_name: str, calls: _Invitations, vins: np.ndarray) -> pd.DataFrame:
    """Return the due-maintenance calls made in the window, by call day (hidden truth, never exported)."""
    veh = np.concatenate(calls.vehicle) if calls.vehicle else np.zeros(0, np.int64)
    frame = pd.DataFrame(
        {
            "vin": vins[veh],
            "store": store_name,
            "call_date": (cal.start + np.concatenate(calls.call_day)).astype("datetime64[s]"),
            "due_date": (cal.start + np.concatenate(calls.due_day)).astype("datetime64[s]"),
            "reached": np.concatenate(calls.reached),
            "booked": np.concatenate(calls.booked),
            "_vehicle": veh,
        }
    )
    return frame.sort_values(["call_date", "vin"], kind="stable").reset_index(drop=True)


# Work orders per store whose visit date is printed impossibly (the import rejects them).
PLANTED_BAD_ROWS = 3


def _planted_bad_dates(rng: np.random.Generator, visit_date: pd.Series) -> np.ndarray:
    """Return, per order, "" or the impossible date text a DMS keying slip printed instead."""
    out = np.full(len(visit_date), "", dtype=object)
    if len(visit_date) < 100:
        return out
    rows = np.sort(
        rng.choice(
            np.arange(len(visit_date) // 10, len(visit_date) * 9 // 10), PLANTED_BAD_ROWS, replace=False
        )
    )
    for k, i in enumerate(rows):
        d = visit_date.iloc[i]
        out[i] = (f"{d.year}/{d.month:02d}/32", f"{d.year}/13/{d.day:02d}", f"{d.year}/02/30")[k % 3]
    return out


def _service_frame(
    cfg: DemoConfig, cal: _Calendar, store_name: str, code: str, fleet: _Fleet, staff: _Staff,
    vis: dict[str, np.ndarray], vins: np.ndarray, plates: np.ndarray, owners: np.ndarray,
    phones: np.ndarray, sold: np.ndarray, sold_day: np.ndarray, new_owner: np.ndarray,
    new_phone: np.ndarray, churn_reason: np.ndarray, churn_day: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:  # fmt: skip
    """Return the work orders of one store (ordered by visit) and the order id of each visit."""
    v = vis["vehicle"]
    order = np.lexsort((v, vis["day"]))
    day = vis["day"]
    visit_dates = cal.start + day
    seq = pd.Series(day[order]).groupby(day[order]).cumcount().to_numpy() + 1
    ymd = np.array(_date_text(pd.Series(visit_dates[order]), "%y%m%d"), dtype=object)
    ids_sorted = np.array([f"RO{code}{d}{s:04d}" for d, s in zip(ymd, seq, strict=True)], dtype=object)
    order_ids = np.empty(v.size, dtype=object)
    order_ids[order] = ids_sorted
    new_hand = sold[v] & (day > sold_day[v])
    part_lists = _PARTS
    part = np.array(
        [
            part_lists[s][int(u * len(part_lists[s]))]
            for s, u in zip(vis["stype"], vis["part_u"], strict=True)
        ],
        dtype=object,
    )
    reason = churn_reason[v]
    frame = pd.DataFrame(
        {
            "order_id": order_ids,
            "store": store_name,
            "vin": vins[v],
            "plate": plates[v],
            "customer_name": np.where(new_hand, new_owner[v], owners[v]),
            "phone": np.where(new_hand, new_phone[v], phones[v]),
            "model": np.array([m.name for m in MODELS], dtype=object)[fleet.model[v]],
            "purchase_date": (cal.start + fleet.purchase[v]).astype("datetime64[s]"),
            "visit_date": visit_dates.astype("datetime64[s]"),
            "mileage_km": vis["mileage"],
            "service_type": np.array(_STYPES, dtype=object)[vis["stype"]],
            "amount": vis["amount"],
            "advisor": np.array(staff.advisors, dtype=object)[vis["advisor"]],
            "is_appointment": vis["appointment"],
            "_vehicle": v + 0,
            "_invited": vis["invited"],
            "_labour": vis["labour"],
            "_parts": vis["parts"],
            "_wait_min": vis["wait_min"].astype(np.int64),
            "_days_in": vis["days_in"],
            "_comeback": vis["comeback"],
            "_pickup": vis["pickup"],
            "_part": part,
            "_churn_reason": np.array(CHURN_REASONS, dtype=object)[reason],
            "_churn_day": np.where(reason > 0, cal.start + churn_day[v], np.datetime64("NaT")).astype(
                "datetime64[s]"
            ),
        }
    )
    return frame, order_ids


def _callback_times(rng: np.random.Generator, days: np.ndarray, cal: _Calendar) -> np.ndarray:
    # Office hours with a lunch break: 9:00-12:00 and 13:30-18:30.
    minute = np.where(
        rng.random(days.size) < 0.45, rng.integers(540, 720, days.size), rng.integers(810, 1110, days.size)
    )
    return (cal.start + days).astype("datetime64[m]") + minute


def _pick_agents(rng: np.random.Generator, staff: _Staff, days: np.ndarray) -> np.ndarray:
    active = (staff.agent_from[None, :] <= days[:, None]).astype(float)
    return _pick_weighted(rng, active)


def _attempts(
    rng: np.random.Generator, staff: _Staff, first_day: np.ndarray, W: int, second_p: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (row of source, day, agent, reached) for first attempts and some second ones."""
    src = np.arange(first_day.size)
    agent = _pick_agents(rng, staff, first_day)
    reached = rng.random(first_day.size) < staff.agent_reach[agent]
    again = ~reached & (rng.random(first_day.size) < second_p)
    day2 = first_day[again] + rng.integers(1, 3, again.sum())
    agent2 = np.where(rng.random(day2.size) < 0.7, agent[again], _pick_agents(rng, staff, day2))
    reached2 = rng.random(day2.size) < 0.78
    src_all = np.concatenate([src, src[again]])
    day_all = np.concatenate([first_day, day2])
    agent_all = np.concatenate([agent, agent2])
    reached_all = np.concatenate([reached, reached2])
    ok = day_all < W
    return src_all[ok], day_all[ok], agent_all[ok], reached_all[ok]


def _callbacks_3dc(
    rng: np.random.Generator, cal: _Calendar, fleet: _Fleet, staff: _Staff, vis: dict[str, np.ndarray],
    order_ids: np.ndarray, vins: np.ndarray,
) -> pd.DataFrame:  # fmt: skip
    """Return one row per 3DC attempt, with scores and comments for the reached ones."""
    W = cal.days
    day = vis["day"]
    frac = day / W
    p_try = np.array([0.86, 0.82, 0.82, 0.8, 0.75, 0.3])[vis["stype"]] * (0.86 + 0.14 * frac)
    tried = np.flatnonzero(rng.random(day.size) < np.minimum(p_try, 0.98))
    delay = rng.choice(7, tried.size, p=[0.10, 0.38, 0.27, 0.15, 0.05, 0.03, 0.02])
    busy = cal.wait_factor[np.clip(day[tried], 0, W - 1)] > 1.3
    delay = delay + (busy & (rng.random(tried.size) < 0.3))
    src, cday, agent, reached = _attempts(rng, staff, day[tried] + delay, W, 0.55)
    visit = tried[src]
    late = (cday - day[visit]) >= 4
    # A visit's experience is reported once, on the attempt that reached the customer.
    frame = _scored_rows(rng, cal, staff, vis, visit, cday, agent, reached, late, sales=False)
    frame.insert(0, "order_id", order_ids[visit])
    frame.insert(1, "vin", vins[vis["vehicle"][visit]])
    frame.insert(2, "callback_type", "3DC")
    frame["_vehicle"] = vis["vehicle"][visit]
    return frame


def _callbacks_7dc(
    rng: np.random.Generator, cal: _Calendar, fleet: _Fleet, staff: _Staff, vins: np.ndarray
) -> pd.DataFrame:
    """Return one row per 7DC attempt after a new-car delivery in the window."""
    W = cal.days
    new = np.flatnonzero((fleet.purchase >= 0) & (rng.random(fleet.purchase.size) < 0.96))
    delay = rng.choice([3, 4, 5, 6, 7, 8], new.size, p=[0.05, 0.1, 0.3, 0.3, 0.2, 0.05])
    src, cday, agent, reached = _attempts(rng, staff, fleet.purchase[new] + delay, W, 0.5)
    veh = new[src]
    m = veh.size
    sales = rng.integers(0, len(staff.sales), m)
    g = fleet.gen[veh]
    noise = rng.normal(0, 1, (m, 2))
    att = 4.5 + staff.sales_effect[sales] + 0.5 * g + 0.4 * noise[:, 0]
    overall = 0.5 * att + 0.5 * (4.45 + 0.5 * g) + 0.3 * noise[:, 1]
    vis = {
        "att": att,
        "overall": overall,
        "complaint": rng.random(m) < _sigmoid(-5.0 + 3.2 * (3.4 - overall)),
        "sales": sales,
        "model": fleet.model[veh],
    }
    frame = _scored_rows(
        rng, cal, staff, vis, np.arange(m), cday, agent, reached, np.zeros(m, bool), sales=True
    )
    frame.insert(0, "order_id", None)
    frame.insert(1, "vin", vins[veh])
    frame.insert(2, "callback_type", "7DC")
    frame["_vehicle"] = veh
    return frame


def _scored_rows(
    rng: np.random.Generator, cal: _Calendar, staff: _Staff, vis: dict[str, np.ndarray], visit: np.ndarray,
    cday: np.ndarray, agent: np.ndarray, reached: np.ndarray, late: np.ndarray, *, sales: bool,
) -> pd.DataFrame:  # fmt: skip
    """Return callback rows: date, agent, reach, scores, complaint and comment per attempt."""
    n = visit.size
    when = _callback_times(rng, cday, cal)
    overall = vis["overall"][visit]
    level = _labels(overall)
    nan = np.full(n, np.nan)
    r = reached
    att = np.where(r, _score5(vis["att"][visit]) * 2, nan)
    if sales:
        qual = timely = price = env = nan
    else:
        qual = np.where(r, _score5(vis["qual"][visit]) * 2, nan)
        timely = np.where(r, _score5(vis["timely"][visit]) * 2, nan)
        price = np.where(r, _score5(vis["price"][visit]) * 2, nan)
        env = np.where(r, _score5(vis["env"][visit]) * 2, nan)
    recommend = np.where(r, _recommend(rng, overall), nan)
    complaint = r & vis["complaint"][visit]

    # What the comment says: the sentiment follows the label, the aspect follows the experience.
    u = rng.random((n, 4))
    has_comment = r & (u[:, 0] < 0.9)
    felt = ("att",) if sales else ("att", "qual", "timely", "price", "env")
    dims_min = _score5(np.min(np.stack([vis[k][visit] for k in felt], axis=1), axis=1)) * 2
    sentiment = np.full(n, text.SENTIMENT_NONE)
    happy = level <= 1
    sentiment = np.where(happy & (u[:, 1] >= 0.42), text.SENTIMENT_PRAISE, sentiment)
    sentiment = np.where(happy & (dims_min <= 6) & (u[:, 2] < 0.35), text.SENTIMENT_MIXED, sentiment)
    sentiment = np.where(happy & late & (u[:, 2] > 0.85), text.SENTIMENT_MIXED, sentiment)
    sentiment = np.where(
        level == 2,
        np.select(
            [u[:, 1] < 0.6, u[:, 1] < 0.75],
            [text.SENTIMENT_MIXED, text.SENTIMENT_COMPLAINT],
            text.SENTIMENT_NONE,
        ),
        sentiment,
    )
    sentiment = np.where(
        level >= 3, np.where(u[:, 1] < 0.8, text.SENTIMENT_COMPLAINT, text.SENTIMENT_NONE), sentiment
    )
    sentiment = np.where(complaint, text.SENTIMENT_COMPLAINT, sentiment)
    sentiment = np.where(has_comment | complaint, sentiment, text.SENTIMENT_NONE)

    primary = np.full(n, -1)
    secondary = np.full(n, -1)
    neg = (sentiment == text.SENTIMENT_COMPLAINT) | (sentiment == text.SENTIMENT_MIXED)
    pos_rows = np.flatnonzero(sentiment == text.SENTIMENT_PRAISE)
    neg_rows = np.flatnonzero(neg)
    mixed_rows = np.flatnonzero(sentiment == text.SENTIMENT_MIXED)
    if sales:
        pw = np.tile(np.array([2.0, 1.5, 1.0, 0.6, 0.4]), (n, 1))
        primary[pos_rows] = _aspect_codes(_SALES_PRAISE_ASPECTS, _pick_weighted(rng, pw[pos_rows]))
        primary[neg_rows] = _aspect_codes(
            _SALES_COMPLAINT_ASPECTS, rng.choice(5, neg_rows.size, p=[0.3, 0.25, 0.2, 0.15, 0.1])
        )
        sw = pw.copy()
        praise_names: tuple[str, ...] = _SALES_PRAISE_ASPECTS
    else:
        renovated = cday[neg_rows] >= cal.renovation_day
        primary[neg_rows] = _complaint_aspect(rng, vis, visit[neg_rows], late[neg_rows], renovated)
        pw = np.zeros((n, len(_PRAISE_ASPECTS)))
        rows = np.concatenate([pos_rows, mixed_rows])
        pw[rows] = _praise_weights(vis, visit[rows], cday[rows] >= cal.renovation_day)
        primary[pos_rows] = _aspect_codes(_PRAISE_ASPECTS, _pick_weighted(rng, pw[pos_rows]))
        sw = pw
        praise_names = _PRAISE_ASPECTS
    # A second aspect: praise for another point, in some praise and in every mixed comment.
    codes = np.array([text.ASPECT_INDEX[a] for a in praise_names])
    sw2 = sw.copy()
    sw2[codes[None, :] == primary[:, None]] = 0.0
    sw2[sw2.sum(axis=1) == 0] = 1.0
    second_pick = codes[_pick_weighted(rng, sw2)]
    want_second = ((sentiment == text.SENTIMENT_PRAISE) & (u[:, 3] < 0.3)) | (
        sentiment == text.SENTIMENT_MIXED
    )
    secondary = np.where(want_second, second_pick, secondary)
    kind = (
        np.array([text.KIND_SALES] * n, dtype=object)
        if sales
        else np.array(_ST_TEXT_KIND, dtype=object)[vis["stype"][visit]]
    )
    if sales:
        advisor = np.array(staff.sales, dtype=object)[vis["sales"][visit]]
        part = np.full(n, "", dtype=object)
        wait_min = np.zeros(n)
        days_in = np.ones(n)
        amount = np.zeros(n)
        model = np.array([mm.name for mm in MODELS], dtype=object)[vis["model"][visit]]
    else:
        advisor = np.array(staff.advisors, dtype=object)[vis["advisor"][visit]]
        st = vis["stype"][visit]
        part = np.array(
            [_PARTS[s][int(p * len(_PARTS[s]))] for s, p in zip(st, vis["part_u"][visit], strict=True)],
            dtype=object,
        )
        wait_min = vis["wait_min"][visit]
        days_in = vis["days_in"][visit]
        amount = vis["amount"][visit]
        model = np.full(n, "", dtype=object)
    uniforms = rng.random((n, text.N_UNIFORMS))
    wants = np.flatnonzero(has_comment)
    comments = np.full(n, None, dtype=object)
    composed = text.compose(
        sentiment[wants], np.maximum(primary[wants], 0), secondary[wants], list(kind[wants]),
        list(advisor[wants]), list(np.array(staff.agents, dtype=object)[agent[wants]]), list(model[wants]),
        list(part[wants]), wait_min[wants], days_in[wants], amount[wants], level[wants], uniforms[wants],
    )  # fmt: skip
    comments[wants] = composed
    aspect = np.array(["none"] * n, dtype=object)
    named = has_comment & (sentiment != text.SENTIMENT_NONE)
    aspect[named] = np.array(text.ASPECTS, dtype=object)[primary[named]]
    aspects = aspect.copy()
    two = named & (secondary >= 0)
    aspects[two] = [f"{a}|{text.ASPECTS[s]}" for a, s in zip(aspect[two], secondary[two], strict=True)]
    sent_names = np.array(text.SENTIMENT_NAMES, dtype=object)[np.where(has_comment, sentiment, 0)]

    # Complaints: category from what went wrong, a level, and when it was closed.
    comp_aspect = np.where(primary >= 0, primary, text.ASPECT_INDEX["other"])
    category = np.full(n, None, dtype=object)
    category[complaint] = [COMPLAINT_CATEGORIES[text.ASPECTS[a]] for a in comp_aspect[complaint]]
    lvl = np.where(complaint, rng.choice(4, n, p=[0.55, 0.33, 0.09, 0.03]) + 1, 0)
    limit = _LEVEL_LIMIT_HOURS[np.maximum(lvl, 1) - 1]
    uu = rng.random((n, 2))
    hours = np.where(uu[:, 0] < 0.85, limit * (0.05 + 0.9 * uu[:, 1]), limit * (1.05 + 2.0 * uu[:, 1]))
    open_case = uu[:, 0] > 0.97
    resolved = when + np.round(hours * 60).astype("timedelta64[m]")
    export_time = cal.start.astype("datetime64[m]") + cal.days * 24 * 60
    resolved_ok = complaint & ~open_case & (resolved < export_time)

    return pd.DataFrame(
        {
            "callback_date": when.astype("datetime64[s]"),
            "agent": np.array(staff.agents, dtype=object)[agent],
            "reached": r,
            "overall_score": np.where(r, _OVERALL_SCORE[level], nan),
            "attitude_score": att,
            "quality_score": qual,
            "timeliness_score": timely,
            "price_score": price,
            "environment_score": env,
            "recommend_score": recommend,
            "comment": comments,
            "is_complaint": complaint,
            "complaint_category": category,
            "complaint_level": pd.Series(lvl, dtype="Int64").mask(~complaint).array,
            "resolved_at": np.where(resolved_ok, resolved, np.datetime64("NaT")).astype("datetime64[s]"),
            "_unreached_reason": np.where(
                r, "", np.array(_UNREACHED, dtype=object)[rng.choice(4, n, p=_UNREACHED_P)]
            ),
            "_aspect": aspect,
            "_aspects": aspects,
            "_sentiment": sent_names,
        }
    )


def _finish_callbacks(
    cfg: DemoConfig, cal: _Calendar, frame: pd.DataFrame, store_name: str, code: str,
    plates: np.ndarray, owners: np.ndarray, phones: np.ndarray, service: pd.DataFrame,
) -> pd.DataFrame:  # fmt: skip
    """Order the callbacks by time, give them ids, the customer called and the store, and attach the
    hidden plate column."""
    frame = frame.sort_values(["callback_date", "order_id", "vin"], kind="stable", na_position="first")
    frame = frame.reset_index(drop=True)
    dates = frame["callback_date"]
    seq = dates.dt.normalize().groupby(dates.dt.normalize()).cumcount() + 1
    ymd = pd.Series(_date_text(dates.dt.normalize(), "%y%m%d"), index=frame.index)
    frame.insert(0, "callback_id", "HF" + code + ymd + seq.map("{:04d}".format))
    veh = frame["_vehicle"].to_numpy()
    # The customer called: a 3DC call's is its work order's (a car sold on has a new owner), a
    # delivery call's the buyer. No draw from the generator: the rest of the demo stays as it was.
    by_order = service.set_index("order_id")
    ordered = frame["order_id"].notna().to_numpy()
    orders = frame["order_id"].to_numpy()[ordered]
    name = owners[veh].astype(object)
    phone = phones[veh].astype(object)
    name[ordered] = by_order["customer_name"].reindex(orders).to_numpy()
    phone[ordered] = by_order["phone"].reindex(orders).to_numpy()
    frame.insert(3, "customer_name", name)
    frame.insert(4, "phone", phone)
    # Every call of a store's simulation is the store's: a 3DC call's is its work order's, a delivery
    # call's the store that sold the car (its file names it; nothing else does for a new car).
    frame.insert(5, "store", store_name)
    frame["_plate"] = plates[veh]
    return frame


# ---------------------------------------------------------------------------------------------
# Public API.


def generate(cfg: DemoConfig) -> dict[str, pd.DataFrame]:
    """Return {"service", "callback"} frames (canonical columns plus hidden truth columns, "_") and
    the hidden "invitation" frame: the due-maintenance calls, which no DMS file carries."""
    if cfg.stores < 1:
        raise UserError("The demo needs at least one store (--stores 1 or more).")
    if not cfg.scale > 0:
        raise UserError("The demo scale must be a positive number, for example 1 or 0.1.")
    if cfg.years < 1:
        raise UserError("The demo needs at least one year of history.")
    if cfg.stores * max(20, int(round(BASE_VEHICLES * cfg.scale))) > VIN_CAPACITY:
        raise UserError("The demo is too large: keep stores x scale under 2,000 (about 20 million vehicles).")
    parts = [_simulate_store(cfg, s) for s in range(cfg.stores)]
    service = pd.concat([p.service for p in parts], ignore_index=True)
    callbacks = pd.concat([p.callbacks for p in parts], ignore_index=True)
    # Vehicle numbers are per store; make them unique across the group.
    offsets = np.repeat(np.arange(cfg.stores) * 10_000_000, [len(p.service) for p in parts])
    service["_vehicle"] = service["_vehicle"].to_numpy() + offsets
    offsets = np.repeat(np.arange(cfg.stores) * 10_000_000, [len(p.callbacks) for p in parts])
    callbacks["_vehicle"] = callbacks["_vehicle"].to_numpy() + offsets
    invitations = pd.concat([p.invitations for p in parts], ignore_index=True)
    offsets = np.repeat(np.arange(cfg.stores) * 10_000_000, [len(p.invitations) for p in parts])
    invitations["_vehicle"] = invitations["_vehicle"].to_numpy() + offsets
    return {"service": service, "callback": callbacks, "invitation": invitations}


def labelled_comments(seed: int = 7, n: int | None = None) -> pd.DataFrame:
    """Return demo comments with their true primary aspect and sentiment (praise/complaint/none)."""
    # About 2 comments per simulated vehicle: a smaller demo is enough for a small sample.
    scale = 1.0 if n is None else min(1.0, max(0.02, n / 15_000))
    frames = generate(DemoConfig(seed=seed, scale=scale))
    cb = frames["callback"]
    cb = cb[cb["comment"].notna()]
    out = pd.DataFrame(
        {
            "comment": cb["comment"].astype(str).to_numpy(),
            "aspect": cb["_aspect"].astype(str).to_numpy(),
            "sentiment": cb["_sentiment"].astype(str).to_numpy(),
        }
    )
    return out if n is None else out.head(n).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# DMS-style files.

SERVICE_HEADERS: tuple[tuple[str, str], ...] = (
    ("工单号", "order_id"),
    ("门店", "store"),
    ("车架号", "vin"),
    ("车牌号", "plate"),
    ("客户姓名", "customer_name"),
    ("联系电话", "phone"),
    ("车型", "model"),
    ("购车日期", "purchase_date"),
    ("进厂日期", "visit_date"),
    ("进厂里程", "mileage_km"),
    ("维修类型", "service_type"),
    ("工时费", "_labour"),
    ("配件费", "_parts"),
    ("结算金额", "amount"),
    ("服务顾问", "advisor"),
    ("是否预约", "is_appointment"),
)
CALLBACK_HEADERS: tuple[tuple[str, str], ...] = (
    ("回访编号", "callback_id"),
    ("工单号", "order_id"),
    ("车架号", "vin"),
    ("车牌号", "_plate"),
    ("客户姓名", "customer_name"),
    ("门店", "store"),
    ("回访类型", "callback_type"),
    ("回访日期", "callback_date"),
    ("回访专员", "agent"),
    ("是否接通", "reached"),
    ("总体满意度", "overall_score"),
    ("服务态度", "attitude_score"),
    ("维修质量", "quality_score"),
    ("维修时效", "timeliness_score"),
    ("收费合理", "price_score"),
    ("休息环境", "environment_score"),
    ("推荐意愿", "recommend_score"),
    ("客户意见", "comment"),
    ("是否投诉", "is_complaint"),
    ("投诉类别", "complaint_category"),
    ("投诉等级", "complaint_level"),
    ("处理完成时间", "resolved_at"),
)
DELIVERY_HEADERS: tuple[tuple[str, str], ...] = (
    ("回访编号", "callback_id"),
    ("回访类型", "callback_type"),
    ("工单号", "order_id"),
    ("车架号", "vin"),
    ("客户姓名", "customer_name"),
    ("联系电话", "phone"),
    ("门店", "store"),
    ("回访日期", "callback_date"),
    ("回访专员", "agent"),
    ("是否接通", "reached"),
    ("总体满意度", "overall_score"),
    ("服务态度", "attitude_score"),
    ("推荐意愿", "recommend_score"),
    ("客户意见", "comment"),
    ("是否投诉", "is_complaint"),
    ("投诉类别", "complaint_category"),
    ("投诉等级", "complaint_level"),
    ("处理完成时间", "resolved_at"),
)
_DIMENSION_COLUMNS = (
    "attitude_score",
    "quality_score",
    "timeliness_score",
    "price_score",
    "environment_score",
)


def _yes_no(values: pd.Series) -> list[str]:
    return ["是" if v else "否" for v in values.to_numpy(dtype=bool)]


def _money(values: pd.Series) -> list[str]:
    return [f"{v:,.2f}" for v in values.to_numpy(dtype=float)]


def _date_text(values: pd.Series, fmt: str) -> list[str]:
    # Format each distinct date once: a DMS file repeats the same few thousand dates.
    codes, uniques = pd.factorize(values)
    texts = np.array([*pd.Series(uniques).dt.strftime(fmt).fillna("").tolist(), ""], dtype=object)
    return texts[codes].tolist()


def _service_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the service rows as the DMS prints them: Chinese values, slash dates, 1,280.00."""
    cols: dict[str, list[Any]] = {}
    for header, col in SERVICE_HEADERS:
        s = frame[col]
        if col in ("purchase_date", "visit_date"):
            cols[header] = _date_text(s, "%Y/%m/%d")
        elif col in ("amount", "_labour", "_parts"):
            cols[header] = _money(s)
        elif col == "service_type":
            cols[header] = [SERVICE_TYPE_ZH[v] for v in s]
        elif col == "is_appointment":
            cols[header] = _yes_no(s)
        elif col == "mileage_km":
            cols[header] = [str(v) for v in s.to_numpy()]
        else:
            cols[header] = s.tolist()
    planted = frame["_bad_visit_date"].to_numpy()
    bad = planted != ""
    if bad.any():
        dates = np.array(cols["进厂日期"], dtype=object)
        dates[bad] = planted[bad]
        cols["进厂日期"] = dates.tolist()
    return pd.DataFrame(cols)


def _int_or_none(values: np.ndarray, divisor: float) -> list[int | None]:
    missing = np.isnan(values)
    out: list[int | None] = list(np.rint(np.where(missing, 0.0, values) / divisor).astype(np.int64).tolist())
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out


def _callback_values(frame: pd.DataFrame, headers: tuple[tuple[str, str], ...], *, reached_text: str,
                     when_fmt: str | None) -> list[list[Any]]:  # fmt: skip
    """Return callback rows as cell values; dates stay datetimes unless ``when_fmt`` is given."""
    cols: list[list[Any]] = []
    for _header, col in headers:
        s = frame[col]
        if col in ("callback_date", "resolved_at"):
            if when_fmt is None:
                cols.append([None if v is None or v != v else v for v in s.astype(object).tolist()])
            else:
                cols.append(_date_text(s, when_fmt))
        elif col == "reached":
            cols.append(
                [reached_text if ok else why for ok, why in zip(s, frame["_unreached_reason"], strict=True)]
            )
        elif col == "overall_score":
            cols.append([None if v != v else OVERALL_LABELS[int(5 - v / 2)] for v in s.to_numpy(dtype=float)])
        elif col in _DIMENSION_COLUMNS:
            cols.append(_int_or_none(s.to_numpy(dtype=float), 2.0))
        elif col == "recommend_score":
            cols.append(_int_or_none(s.to_numpy(dtype=float), 1.0))
        elif col == "is_complaint":
            cols.append(_yes_no(s))
        elif col == "complaint_level":
            cols.append(_int_or_none(s.to_numpy(dtype=float, na_value=np.nan), 1.0))
        else:
            cols.append([None if (v is None or v != v) else v for v in s.astype(object)])
    return [list(row) for row in zip(*cols, strict=True)]


def _write_csv(
    path: Path, title: str | None, header: list[str], rows: list[list[Any]], encoding: str
) -> None:
    import csv

    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        if title:
            writer.writerow([title])
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


def _zip_time(cfg: DemoConfig) -> tuple[int, int, int, int, int, int]:
    d = cfg.end + timedelta(days=1)
    return (d.year, d.month, d.day, 8, 30, 0)


_XLSX_STATIC: dict[str, str] = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
        'Target="docProps/core.xml"/>'
        "</Relationships>"
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        '<Relationship Id="rId3" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
        'Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
    # Style 1 shows date-times as 2024/03/05 14:22, so readers see real date cells.
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy/mm/dd hh:mm"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ),
}
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _col_letters(n: int) -> list[str]:
    out = []
    for i in range(n):
        name = ""
        k = i + 1
        while k:
            k, r = divmod(k - 1, 26)
            name = chr(65 + r) + name
        out.append(name)
    return out


_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_text(value: str) -> str:
    # Control characters are not allowed in XML 1.0; DMS text never needs them.
    clean = _XML_FORBIDDEN.sub("", value)
    return clean.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _write_xlsx(path: Path, sheet: str, rows: list[list[Any]], cfg: DemoConfig) -> None:
    """Write ``rows`` as a one-sheet XLSX with shared strings and date-time cells, byte-stable.

    openpyxl without lxml serialises ~40 us per cell, too slow for the demo's 30,000 rows;
    this writes the same package parts directly (openpyxl reads it back in the tests).
    """
    strings: dict[str, int] = {}
    letters = _col_letters(max(len(r) for r in rows))
    parts: list[str] = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{letters[-1]}{len(rows)}"/><sheetData>'
    ]
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            if value is None:
                continue
            if value.__class__ is str:
                idx = strings.setdefault(value, len(strings))
                cells.append(f'<c r="{letters[c]}{r}" t="s"><v>{idx}</v></c>')
            elif isinstance(value, datetime):
                serial = (value - _EXCEL_EPOCH).total_seconds() / 86400.0
                cells.append(f'<c r="{letters[c]}{r}" s="1"><v>{serial!r}</v></c>')
            else:
                cells.append(f'<c r="{letters[c]}{r}"><v>{value}</v></c>')
        parts.append(f'<row r="{r}">{"".join(cells)}</row>')
    parts.append("</sheetData></worksheet>")
    shared = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">'
    ]
    shared.extend(f'<si><t xml:space="preserve">{_xml_text(s)}</t></si>' for s in strings)
    shared.append("</sst>")
    stamp = datetime(*_zip_time(cfg)).strftime("%Y-%m-%dT%H:%M:%SZ")
    package = {
        **_XLSX_STATIC,
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>DMS</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f'<sheets><sheet name="{_xml_text(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/worksheets/sheet1.xml": "".join(parts),
        "xl/sharedStrings.xml": "".join(shared),
    }
    when = _zip_time(cfg)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, body in package.items():
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, body.encode("utf-8"))


def write_dms_files(
    frames: dict[str, pd.DataFrame], out_dir: Path, cfg: DemoConfig, *, xlsx: bool | None = None
) -> list[tuple[Path, str]]:
    """Write the frames as DMS exports and return [(path, kind)] in import order.

    Service orders: one GBK CSV per store and year with a title line. 3DC callbacks: one XLSX
    per store and year (or UTF-8 CSV when ``xlsx`` is false; ``None`` picks CSV above
    ``XLSX_MAX_ROWS`` rows). 7DC callbacks: one UTF-8-with-BOM CSV.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    service = frames["service"]
    callbacks = frames["callback"]
    use_xlsx = (len(callbacks) <= XLSX_MAX_ROWS) if xlsx is None else xlsx
    files: list[tuple[Path, str]] = []
    stores = [store_identity(i) for i in range(cfg.stores)]

    years = service["visit_date"].dt.year
    for name, _code, _plate, company in stores:
        mine = service[service["store"] == name]
        for year in sorted(years[mine.index].unique()):
            part = mine[years[mine.index] == year].sort_values(["visit_date", "order_id"], kind="stable")
            table = _service_text(part)
            path = out_dir / f"维修工单_{name}_{year}.csv"
            title = f"{company} 维修工单导出 {year}年"
            _write_csv(path, title, list(table.columns), table.to_numpy().tolist(), "gbk")
            files.append((path, "service"))

    three = callbacks[callbacks["callback_type"] == "3DC"]
    cb_years = three["callback_date"].dt.year
    header = [h for h, _ in CALLBACK_HEADERS]
    for name, _code, _plate, company in stores:
        mine = three[three["store"] == name]
        for year in sorted(cb_years[mine.index].unique()):
            part = mine[cb_years[mine.index] == year]
            title = f"{company} 售后回访记录 {year}年"
            if use_xlsx:
                rows = _callback_values(part, CALLBACK_HEADERS, reached_text="接通", when_fmt=None)
                path = out_dir / f"回访记录_{name}_{year}.xlsx"
                _write_xlsx(path, "回访记录", [[title], header, *rows], cfg)
            else:
                rows = _callback_values(
                    part, CALLBACK_HEADERS, reached_text="接通", when_fmt="%Y/%m/%d %H:%M"
                )
                path = out_dir / f"回访记录_{name}_{year}.csv"
                _write_csv(path, title, header, rows, "utf-8-sig")
            files.append((path, "callback"))

    seven = callbacks[callbacks["callback_type"] == "7DC"]
    if len(seven):
        rows = _callback_values(seven, DELIVERY_HEADERS, reached_text="已接通", when_fmt="%Y-%m-%d %H:%M")
        path = out_dir / "新车交付7DC回访.csv"
        _write_csv(path, None, [h for h, _ in DELIVERY_HEADERS], rows, "utf-8-sig")
        files.append((path, "callback"))
    return files


# ---------------------------------------------------------------------------------------------
# Building the demo database.

Progress = Callable[[float, str], None]


def demo_sizes(frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Return the headline sizes of generated frames: vehicles, orders, callbacks, comments."""
    service = frames["service"]
    callbacks = frames["callback"]
    comments = callbacks["comment"].dropna()
    vins = pd.concat([service["vin"], callbacks["vin"]]).dropna()
    return {
        "vehicles": int(vins.nunique()),
        "orders": len(service),
        "callbacks": len(callbacks),
        "callbacks_3dc": int((callbacks["callback_type"] == "3DC").sum()),
        "callbacks_7dc": int((callbacks["callback_type"] == "7DC").sum()),
        "comments": len(comments),
        "distinct_comments": int(comments.nunique()),
        "planted_bad_rows": int((service["_bad_visit_date"] != "").sum()),
    }


def build_demo(
    db_path: str | os.PathLike[str] | None,
    cfg: DemoConfig | None = None,
    *,
    files_dir: Path | None = None,
    progress: Progress | None = None,
    xlsx: bool | None = None,
) -> dict[str, Any]:
    """Generate the demo, write its DMS files, import each through the import path; return sizes and timings."""
    con = db.connect(db_path)
    try:
        return build_into(con, cfg, files_dir=files_dir, progress=progress, xlsx=xlsx)
    finally:
        con.close()


def build_into(
    con: duckdb.DuckDBPyConnection,
    cfg: DemoConfig | None = None,
    *,
    files_dir: Path | None = None,
    progress: Progress | None = None,
    xlsx: bool | None = None,
) -> dict[str, Any]:
    """Build the demo into an open database (the Data page's button); return sizes and timings."""
    cfg = cfg or DemoConfig()

    def step(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    try:
        ingest = importlib.import_module("analytics.ingest")
    except ImportError as exc:
        raise UserError(
            "The import module (analytics.ingest) is missing, so the demo cannot be loaded."
        ) from exc

    t0 = time.perf_counter()
    step(0.0, "simulating the dealership")
    frames = generate(cfg)
    t1 = time.perf_counter()
    step(0.2, "writing DMS files")
    out_dir = Path(files_dir) if files_dir is not None else DEFAULT_FILES_DIR
    files = write_dms_files(frames, out_dir, cfg, xlsx=xlsx)
    t2 = time.perf_counter()
    imports: list[dict[str, Any]] = []
    for i, (path, kind) in enumerate(files):
        step(0.3 + 0.7 * i / len(files), f"importing {path.name}")
        res = ingest.import_file(con, path, file_name=path.name, kind=kind, who="demo")
        imports.append(
            {
                "file": path.name,
                "kind": kind,
                "bytes": path.stat().st_size,
                "import_id": res.import_id,
                "rows_read": res.rows_read,
                "inserted": res.inserted,
                "updated": res.updated,
                "unchanged": res.unchanged,
                "rejected": res.rejected,
            }
        )
    # One transaction: a build killed here must not leave the vehicles table emptied.
    with db.write_transaction(con) as cur:
        load.refresh_derived(cur)
        cur.execute(
            "INSERT OR REPLACE INTO meta VALUES ('demo_config', $v)",
            {"v": json.dumps({**asdict(cfg), "end": cfg.end.isoformat()}, sort_keys=True)},
        )
    t3 = time.perf_counter()
    step(1.0, "done")
    return {
        "config": {**asdict(cfg), "end": cfg.end.isoformat()},
        "sizes": demo_sizes(frames),
        "files_dir": str(out_dir),
        "imports": imports,
        "rejected": sum(i["rejected"] for i in imports),
        "seconds": {
            "generate": round(t1 - t0, 2),
            "write_files": round(t2 - t1, 2),
            "import": round(t3 - t2, 2),
            "total": round(t3 - t0, 2),
        },
    }
