"""Chinese callback comments for the demo dealership, composed from aspect phrase banks.

The simulation (``analytics.devtools.demo``) decides what a customer experienced and which aspect a
comment speaks of; this module only turns that decision into natural text. A comment is an
optional opener, one core phrase for the primary aspect, sometimes a second phrase for another
aspect, an optional closing and end punctuation. Core phrases carry slots filled from the visit
({adv} advisor, {min} waiting time, {days} days in the shop, {amt} amount, {part} car part,
{model} model, {agent} callback agent), so the same aspect reads differently from visit to visit.

Aspect keys are shared by praise and complaint comments; ``ASPECT_LABELS`` gives their Chinese
names. Every text here is GBK-encodable because the service files are written in GBK.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Aspect key -> readable Chinese label. Praise and complaint comments share the keys.
ASPECT_LABELS: dict[str, str] = {
    "attitude": "服务态度",
    "waiting": "维修效率/等待时间",
    "quality": "维修质量/返修",
    "price": "价格/收费合理性",
    "car_wash": "洗车",
    "lounge": "休息室/环境",
    "meals": "用餐/茶点",
    "appointment": "预约",
    "callback": "回访",
    "pickup": "上门取送车",
    "expertise": "专业技术",
    "delivery": "新车交付",
    "other": "其他",
}
ASPECTS: tuple[str, ...] = tuple(ASPECT_LABELS)
ASPECT_INDEX: dict[str, int] = {a: i for i, a in enumerate(ASPECTS)}

# Service kinds the phrase filters know; 7DC comments use "delivery".
KIND_MAINT = "maint"  # first_maintenance, maintenance
KIND_REPAIR = "repair"  # repair, warranty
KIND_BODY = "body"  # body_paint
KIND_OTHER = "other"
KIND_SALES = "sales"  # 7DC callbacks after a new-car delivery

_ALL = frozenset({KIND_MAINT, KIND_REPAIR, KIND_BODY, KIND_OTHER})
_SHOP = frozenset({KIND_MAINT, KIND_REPAIR, KIND_OTHER})
_FIX = frozenset({KIND_REPAIR, KIND_BODY})
_MAINT = frozenset({KIND_MAINT})
_REPAIR = frozenset({KIND_REPAIR})
_BODY = frozenset({KIND_BODY})
_SALES = frozenset({KIND_SALES})

Bank = tuple[tuple[str, frozenset[str]], ...]

PRAISE: dict[str, Bank] = {
    "attitude": (
        ("{adv}服务态度很好", _ALL),
        ("{adv}很热情，有问必答", _ALL),
        ("接待的{adv}很耐心，讲得很清楚", _ALL),
        ("{adv}人很好，全程都在跟进", _ALL),
        ("服务顾问{advn}态度特别好", _ALL),
        ("{adv}很用心，还提醒我下次保养的时间", _MAINT),
        ("{adv}还帮我把车开到门口，很贴心", _ALL),
        ("{adv}很负责，车有什么情况都打电话跟我说明", _FIX),
        ("工作人员都很客气", _ALL),
        ("服务很周到，从进门到交车都有人管", _ALL),
        ("{adv}不乱推销，让人放心", _ALL),
        ("一进门就有人接待引导", _ALL),
        ("一直找{adv}，服务没得说", _ALL),
        ("对{adv}的服务很满意，专业又客气", _ALL),
        ("{adv}说话很和气，解释得很到位", _ALL),
        ("前台和{adv}都很热情", _ALL),
        ("{adv}办事利索，态度也好", _ALL),
    ),
    "waiting": (
        ("保养很快，{min}就弄好了", _MAINT),
        ("速度挺快的，等了{min}左右", _SHOP),
        ("效率高，没怎么等", _SHOP),
        ("比预计的时间还早交车", _ALL),
        ("{min}就做完了，没耽误事", _SHOP),
        ("当天就修好了，效率很高", _REPAIR),
        ("交车准时，说几点就几点", _ALL),
        ("前后不到{min}就好了", _SHOP),
        ("修车速度比我想的快", _REPAIR),
        ("{days}天就修好了，比保险公司说的快", _BODY),
        ("动作很快，一点没拖", _ALL),
        ("等的时间不长，{min}左右", _SHOP),
        ("流程很顺，进去没多久车就好了", _SHOP),
    ),
    "quality": (
        ("{part}的问题修好了，开着没毛病了", _REPAIR),
        ("修得很彻底，{part}再没出过问题", _REPAIR),
        ("技术不错，一次就修好了", _REPAIR),
        ("之前别家没修好的{part}，这里一次搞定", _REPAIR),
        ("维修质量让人放心", _FIX),
        ("保养做得很仔细，还帮我检查了{part}", _MAINT),
        ("车开回去感觉好多了", _SHOP),
        ("师傅手艺好，{part}弄得很到位", _REPAIR),
        ("修完开了几天，一切正常", _REPAIR),
        ("喷漆颜色很正，看不出修过", _BODY),
        ("钣金做得很平整，跟新的一样", _BODY),
        ("{part}修得跟原厂一样", _BODY),
        ("保养完车子开起来顺多了", _MAINT),
    ),
    "price": (
        ("收费透明，每一项都说清楚了", _ALL),
        ("价格合理，一共{amt}，能接受", _ALL),
        ("首保免费，还送了检测", _MAINT),
        ("费用都提前告知，没有乱收费", _ALL),
        ("结算单列得很清楚", _ALL),
        ("价格公道，{adv}还帮我申请了优惠", _ALL),
        ("这次花了{amt}，觉得挺值", _ALL),
        ("没有乱推项目，只做了该做的", _MAINT),
        ("走的保修，一分钱没花", _REPAIR),
        ("工时费比以前便宜了", _SHOP),
        ("保险直接理赔，自己没掏钱", _BODY),
        ("价格比我想的便宜", _ALL),
    ),
    "car_wash": (
        ("洗车洗得很干净", _ALL),
        ("还帮忙把车洗了，里外都很干净", _ALL),
        ("免费洗车，内饰也擦了", _ALL),
        ("车洗得很干净，轮毂都刷了", _ALL),
        ("交车的时候车已经洗好了", _ALL),
        ("洗车很仔细，脚垫都洗了", _ALL),
    ),
    "lounge": (
        ("休息室很舒服，还能办公", _SHOP),
        ("新装修的休息室很不错，沙发舒服", _SHOP),
        ("环境好，很干净", _ALL),
        ("客休区挺安静的，等车不无聊", _SHOP),
        ("休息区有按摩椅，还能充电", _SHOP),
        ("店里环境整洁，卫生间也干净", _ALL),
        ("休息室有Wi-Fi，网速挺快", _SHOP),
        ("等车的地方宽敞明亮", _SHOP),
    ),
    "meals": (
        ("中午还管饭，饭菜不错", _SHOP),
        ("有咖啡和点心，等的时候不饿", _SHOP),
        ("茶水点心都有，很贴心", _SHOP),
        ("午餐挺好吃的", _SHOP),
        ("水果饮料随便拿", _SHOP),
        ("等车的时候送了杯咖啡", _SHOP),
    ),
    "appointment": (
        ("提前预约的，到了直接进工位", _ALL),
        ("预约很方便，微信上就能约", _ALL),
        ("按预约时间来的，马上就安排了", _ALL),
        ("提前一天打电话确认预约，很细心", _ALL),
        ("约好的时间一到就有人接待", _ALL),
        ("预约了不用排队，省事", _SHOP),
    ),
    "callback": (
        ("回访很及时，还问了车的使用情况", _ALL),
        ("回访的{agent}很客气", _ALL),
        ("回访做得好，有问题能及时反馈", _ALL),
        ("每次来过都有回访，感觉被重视", _ALL),
        ("{agent}打电话很有礼貌", _ALL),
    ),
    "pickup": (
        ("上门取送车太方便了，不用自己跑一趟", _ALL),
        ("取送车服务很好，在家等着车就送回来了", _ALL),
        ("新推出的上门取车很实用，上班族省心", _ALL),
        ("{adv}安排司机上门取车，送回来还洗干净了", _ALL),
        ("取送车很准时，司机开得也很小心", _ALL),
        ("有了上门取送车，以后保养更方便了", _MAINT),
        ("上门取送车省了我半天时间", _ALL),
        ("取车送车都不用我操心", _ALL),
    ),
    "expertise": (
        ("师傅很专业，问题一下就找到了", _FIX),
        ("技师很专业，还给我讲了{part}怎么保养", _ALL),
        ("检查得很仔细，很专业", _ALL),
        ("{adv}懂车，建议都很中肯", _ALL),
        ("诊断准确，没有乱换配件", _REPAIR),
        ("技术过硬，值得信赖", _ALL),
        ("{adv}讲得很专业，听得明白", _ALL),
    ),
    "delivery": (
        ("交车仪式很用心，还拍了照", _SALES),
        ("提车的时候讲得很仔细，功能都教会了", _SALES),
        ("交车很顺利，手续一次办完", _SALES),
        ("新车很满意，交车布置得很温馨", _SALES),
        ("上牌很快，没让我多跑", _SALES),
    ),
}
# 7DC praise reuses a few service aspects with sales wording.
SALES_PRAISE: dict[str, Bank] = {
    "attitude": (
        ("销售顾问{adv}很热情", _SALES),
        ("{adv}服务很好，买车很愉快", _SALES),
        ("{adv}很耐心，试驾陪了很久", _SALES),
        ("销售{adv}态度特别好，没有催我", _SALES),
    ),
    "expertise": (
        ("{adv}对{model}很了解，讲得很专业", _SALES),
        ("车的功能讲解很到位", _SALES),
        ("{adv}把{model}的配置讲得很清楚", _SALES),
    ),
    "price": (
        ("价格很实在，没有乱加钱", _SALES),
        ("优惠给得很到位", _SALES),
        ("{model}的价格比别家便宜", _SALES),
    ),
    "waiting": (
        ("订车到提车很快", _SALES),
        ("提车没等多久", _SALES),
    ),
}

COMPLAINT: dict[str, Bank] = {
    "attitude": (
        ("{adv}态度一般，问什么都不耐烦", _ALL),
        ("接待的人爱答不理的", _ALL),
        ("{adv}没有主动说明情况，打电话问了才知道", _ALL),
        ("服务顾问太忙了，顾不上我们", _ALL),
        ("{adv}说话很冲，体验很差", _ALL),
        ("交车的时候没人讲解做了什么", _ALL),
        ("进门半天没人接待", _ALL),
        ("{adv}答应的事情没做到", _ALL),
        ("找{adv}好几次都说在忙", _ALL),
    ),
    "waiting": (
        ("等太久了，做个保养等了{min}", _MAINT),
        ("说一个小时，结果等了{min}", _SHOP),
        ("维修时间太长，{days}天才修好", _BODY),
        ("排队的车太多，等了{min}", _SHOP),
        ("交车时间一拖再拖", _ALL),
        ("效率太低，{min}才弄好", _SHOP),
        ("下午才轮到我，白白浪费半天", _SHOP),
        ("配件要等，修了好几天", _REPAIR),
        ("说好当天交车，结果拖到第二天", _REPAIR),
    ),
    "quality": (
        ("{part}的问题没修好，回去又出现了", _REPAIR),
        ("修完没两天{part}又坏了，又跑了一趟", _REPAIR),
        ("返修了两次才好", _REPAIR),
        ("保养完发现{part}没装好", _MAINT),
        ("车上多了划痕，不知道是不是修车时弄的", _ALL),
        ("问题没找到，只说先观察", _REPAIR),
        ("做完保养故障灯又亮了", _MAINT),
        ("喷漆有色差，看得出来", _BODY),
        ("{part}那里的缝隙不均匀", _BODY),
        ("异响还在，等于白修", _REPAIR),
    ),
    "price": (
        ("收费太贵了，花了{amt}", _ALL),
        ("工时费太高了", _SHOP),
        ("配件比外面贵很多", _FIX),
        ("结算的时候多了几项没提前说的费用", _ALL),
        ("保养一次{amt}，有点贵", _MAINT),
        ("价格不透明，也没给明细", _ALL),
        ("推销的项目太多，感觉在多收钱", _MAINT),
        ("{part}换一下要{amt}，外面便宜一半", _REPAIR),
        ("收费太贵，配件贵工时费也贵", _SHOP),
        ("保险外的费用太高", _BODY),
    ),
    "car_wash": (
        ("洗车没洗干净，车顶还是脏的", _ALL),
        ("说好的洗车没洗", _ALL),
        ("洗车排队太久了", _ALL),
        ("车里的脚垫没弄干净", _ALL),
        ("洗完车玻璃上都是水印", _ALL),
    ),
    "lounge": (
        ("休息室太小了，人多的时候没地方坐", _SHOP),
        ("客休室空调不凉，太热了", _SHOP),
        ("休息区的Wi-Fi连不上", _SHOP),
        ("休息室比较吵，环境一般", _SHOP),
        ("卫生间不太干净", _ALL),
        ("休息区没有充电的地方", _SHOP),
        ("客休室的沙发太旧了", _SHOP),
        ("休息室有人抽烟，味道很大", _SHOP),
    ),
    "meals": (
        ("午饭不好吃", _SHOP),
        ("等到中午也没人安排吃饭", _SHOP),
        ("茶点太少了，就几块饼干", _SHOP),
        ("饮水机没水了也没人管", _SHOP),
        ("饭菜都凉了", _SHOP),
    ),
    "callback": (
        ("回访太晚了，过了快一个星期才打电话", _ALL),
        ("一天打了好几个电话，有点打扰", _ALL),
        ("上次反映的问题到现在没人回复", _ALL),
        ("回访问题太多，问卷太长", _ALL),
        ("回访电话总在上班时间打", _ALL),
    ),
    "appointment": (
        ("预约了还是要排队", _ALL),
        ("预约电话老打不通", _ALL),
        ("约的时间到了工位还没空出来", _ALL),
        ("预约不上，最近的都排到下周了", _ALL),
        ("明明约好的，到店说没有记录", _ALL),
    ),
    "other": (
        ("车里的东西找不到了", _ALL),
        ("停车场太挤，车位不好找", _ALL),
        ("发票开错了，还得再跑一趟", _ALL),
        ("保险理赔手续太麻烦", _BODY),
        ("座椅被调乱了也没调回来", _ALL),
    ),
}
SALES_COMPLAINT: dict[str, Bank] = {
    "attitude": (
        ("销售{adv}交车后就不理人了", _SALES),
        ("{adv}答应送的东西没给", _SALES),
    ),
    "waiting": (
        ("提车等了很久", _SALES),
        ("上牌太慢了，等了快两个星期", _SALES),
        ("交车当天手续办了半天", _SALES),
    ),
    "price": (
        ("金融服务费没提前说清楚", _SALES),
        ("加装的东西收费太贵", _SALES),
        ("说好的优惠最后没给", _SALES),
    ),
    "delivery": (
        ("交车的时候车不干净", _SALES),
        ("新车有小划痕", _SALES),
        ("功能没讲清楚，回家自己摸索", _SALES),
    ),
    "other": (
        ("随车的资料缺了一本", _SALES),
        ("送的脚垫尺寸不对", _SALES),
    ),
}

CONTENTLESS_GOOD: tuple[str, ...] = (
    "满意",
    "挺好的",
    "没意见",
    "无",
    "很好",
    "都挺好",
    "还不错",
    "非常满意",
    "好的",
    "可以",
    "挺满意的",
    "没什么意见",
    "一切都好",
    "满意，谢谢",
    "暂无",
    "没有",
    "都满意",
    "很满意",
    "不错",
    "挺好",
    "还可以",
    "没问题",
    "OK",
    "满意的",
    "都还行",
    "没有意见",
)
CONTENTLESS_MEH: tuple[str, ...] = (
    "一般",
    "还行吧",
    "就那样",
    "凑合",
    "一般般",
    "还可以吧",
    "无",
    "说不上来",
)
CONTENTLESS_BAD: tuple[str, ...] = ("不太满意", "不满意", "不好说", "没什么好说的", "无")

_OPEN_PRAISE: dict[str, tuple[str, ...]] = {
    KIND_MAINT: ("这次来保养，", "这次保养，", "保养挺顺利，"),
    KIND_REPAIR: ("这次修车，", "这次来修车，"),
    KIND_BODY: ("这次钣喷，", "这次事故车维修，"),
    KIND_OTHER: ("这次来店里，",),
    KIND_SALES: ("这次买车，", "提车很开心，", "买{model}很满意，"),
}
_OPEN_PRAISE_ANY: tuple[str, ...] = (
    "挺好的，",
    "很满意，",
    "总的来说不错，",
    "每次来都挺满意，",
    "老客户了，",
    "嗯，",
    "都挺好的，",
    "整体不错，",
    "还是挺满意的，",
    "没什么问题，",
)
_OPEN_COMPLAINT: tuple[str, ...] = (
    "说实话，",
    "有点意见，",
    "不太满意，",
    "这次体验不好，",
    "提个意见，",
    "怎么说呢，",
    "别的还行，",
    "有个问题，",
    "不满意，",
    "反映一下，",
)
_MIXED_BRIDGE: tuple[str, ...] = ("，就是", "，不过", "，但是", "，唯一不足是", "，只是", "，可惜")
_MIXED_OPEN: tuple[str, ...] = ("整体还行", "还可以吧", "别的都挺好", "总体还过得去", "一般吧", "大部分还行")
_LINK: tuple[str, ...] = ("，而且", "，另外", "，还有", "，", "；", "。")
_CLOSE_PRAISE: tuple[str, ...] = (
    "，下次还来",
    "，会推荐朋友来",
    "，继续保持",
    "，辛苦了",
    "，谢谢",
    "，给你们点赞",
    "，挺满意的",
    "，没什么意见",
    "，五星好评",
    "，很满意",
    "，谢谢{adv}",
)
_CLOSE_COMPLAINT: tuple[str, ...] = (
    "，希望改进",
    "，希望能重视一下",
    "，你们得注意一下",
    "，建议改进",
    "，希望以后别这样",
    "，太影响心情了",
    "，麻烦跟领导反映一下",
)
_CLOSE_ANGRY: tuple[str, ...] = ("，希望给个说法", "，下次不会再来了", "，要投诉", "，必须处理")
_END_PRAISE: tuple[str, ...] = ("。", "！", "", "。", "")
_END_COMPLAINT: tuple[str, ...] = ("。", "", "！", "。")

_ZH_DIGITS = "零一二三四五六七八九"

SENTIMENT_NONE = 0
SENTIMENT_PRAISE = 1
SENTIMENT_COMPLAINT = 2
SENTIMENT_MIXED = 3
SENTIMENT_NAMES: tuple[str, ...] = ("none", "praise", "complaint", "complaint")


def _zh_tens(n: int) -> str:
    if n < 10:
        return _ZH_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "十" if tens == 1 else _ZH_DIGITS[tens] + "十"
    return head + (_ZH_DIGITS[ones] if ones else "")


def _minutes_text(minutes: float, u: float) -> str:
    m = max(10, int(round(minutes / 5.0)) * 5)
    if m < 60:
        if m == 30 and u < 0.5:
            return "半个小时"
        if m % 10 == 0 and u < 0.4:
            return _zh_tens(m) + "分钟"
        return f"{m}分钟"
    if m < 90:
        return ("一个多小时", "一个小时", f"{m}分钟", "一个钟头")[int(u * 4)]
    if m < 150:
        return ("一个半小时", "将近两个小时", "两个小时", f"{m}分钟")[int(u * 4)]
    if m < 240:
        return ("两个多小时", "三个小时", "快三个小时", "大半天")[int(u * 4)]
    return ("四个多小时", "大半天", "半天多", "一整个下午")[int(u * 4)]


def _amount_text(amount: float, u: float) -> str:
    a = max(1.0, amount)
    if a >= 1000 and u < 0.3:
        thousands = int(a // 1000)
        head = "两" if thousands == 2 else _zh_tens(thousands) if thousands < 100 else str(thousands)
        return f"{head}千多"
    if u < 0.55:
        return f"{int(round(a))}元"
    if u < 0.8:
        return f"{int(round(a))}块"
    return f"{int(a // 100) * 100}多"


def _advisor_forms(name: str) -> tuple[str, ...]:
    surname = name[0]
    return (name, name, f"{surname}顾问", f"小{surname}", f"{name}顾问")


def _pick(options: Sequence[str], u: float) -> str:
    return options[min(len(options) - 1, int(u * len(options)))]


def _eligible(bank: Bank, kind: str) -> list[str]:
    return [text for text, kinds in bank if kind in kinds]


class _Banks:
    """Per (aspect, kind) lists of eligible core phrases, built once."""

    def __init__(self) -> None:
        kinds = (KIND_MAINT, KIND_REPAIR, KIND_BODY, KIND_OTHER, KIND_SALES)
        self.praise: dict[tuple[str, str], list[str]] = {}
        self.complaint: dict[tuple[str, str], list[str]] = {}
        for kind in kinds:
            praise = SALES_PRAISE | {"delivery": PRAISE["delivery"]} if kind == KIND_SALES else PRAISE
            complaint = SALES_COMPLAINT if kind == KIND_SALES else COMPLAINT
            for aspect in ASPECTS:
                if aspect in praise:
                    self.praise[(aspect, kind)] = _eligible(praise[aspect], kind)
                if aspect in complaint:
                    self.complaint[(aspect, kind)] = _eligible(complaint[aspect], kind)

    def core(self, sentiment: int, aspect: str, kind: str, u: float, *, paid: bool = True) -> str:
        table = self.praise if sentiment == SENTIMENT_PRAISE else self.complaint
        options = table.get((aspect, kind)) or table.get((aspect, KIND_OTHER)) or []
        if not paid:
            # Nobody says "it cost 0 yuan": free visits use the phrases without an amount.
            options = [o for o in options if "{amt}" not in o]
        if not options:
            # An aspect without wording for this kind falls back to a generic phrase of its side.
            fallback = "attitude"
            options = table.get((fallback, kind)) or table[(fallback, KIND_OTHER)]
        return _pick(options, u)


_BANKS: _Banks | None = None


def _banks() -> _Banks:
    global _BANKS
    if _BANKS is None:
        _BANKS = _Banks()
    return _BANKS


class _Slots(dict[str, str]):
    """Slot values of one comment, computed only when a phrase asks for them."""

    def __init__(
        self, advisor: str, agent: str, model: str, part: str, wait: float, days: float, amount: float,
        draws: list[float],
    ) -> None:  # fmt: skip
        super().__init__()
        self.row = (advisor, agent, model, part, wait, days, amount)
        self.draws = draws

    def __missing__(self, key: str) -> str:
        advisor, agent, model, part, wait, days, amount = self.row
        u = self.draws
        if key == "adv":
            value = _pick(_advisor_forms(advisor), u[1])
        elif key == "advn":
            value = advisor
        elif key == "agent":
            value = _pick((agent or "客服", "客服", "客服小姐姐", "回访的同事"), u[2])
        elif key == "model":
            value = model or "车"
        elif key == "part":
            value = part or "车"
        elif key == "min":
            value = _minutes_text(float(wait), u[3])
        elif key == "days":
            value = str(max(1, int(days)))
        elif key == "amt":
            value = _amount_text(float(amount), u[4])
        else:
            raise KeyError(key)
        self[key] = value
        return value


# Columns of the uniform draws each comment consumes, in order.
N_UNIFORMS = 16


def compose(
    sentiment: np.ndarray,
    primary: np.ndarray,
    secondary: np.ndarray,
    kind: Sequence[str],
    advisor: Sequence[str],
    agent: Sequence[str],
    model: Sequence[str],
    part: Sequence[str],
    wait_min: np.ndarray,
    days: np.ndarray,
    amount: np.ndarray,
    level: np.ndarray,
    uniforms: np.ndarray,
) -> list[str]:
    """Return one comment per row, composed from the banks with the given uniform draws.

    ``sentiment`` holds SENTIMENT_* codes; ``primary``/``secondary`` index ``ASPECTS`` (secondary
    -1 for none); ``level`` is the overall label (0 very satisfied .. 4 very unsatisfied) that
    picks the contentless wording and how angry a complaint closes; ``uniforms`` has
    ``N_UNIFORMS`` columns in [0, 1).
    """
    banks = _banks()
    out: list[str] = []
    # Plain Python values: indexing numpy arrays element by element is several times slower.
    sentiments = np.asarray(sentiment).tolist()
    levels = np.asarray(level).tolist()
    draws = np.asarray(uniforms).tolist()
    for i in range(len(sentiments)):
        u = draws[i]
        s = sentiments[i]
        lvl = levels[i]
        if s == SENTIMENT_NONE:
            pool = CONTENTLESS_GOOD if lvl <= 1 else CONTENTLESS_MEH if lvl == 2 else CONTENTLESS_BAD
            out.append(_pick(pool, u[0]))
            continue
        k = kind[i]
        adv_name = advisor[i] or "顾问"
        slots = _Slots(adv_name, agent[i], model[i], part[i], wait_min[i], days[i], amount[i], u)
        p_aspect = ASPECTS[int(primary[i])]
        paid = float(amount[i]) >= 1.0
        sec = int(secondary[i])
        if s == SENTIMENT_PRAISE:
            text = ""
            if u[5] < 0.3:
                text = _pick(_OPEN_PRAISE[k], u[6]) if u[7] < 0.5 else _pick(_OPEN_PRAISE_ANY, u[6])
            text += banks.core(SENTIMENT_PRAISE, p_aspect, k, u[8], paid=paid)
            if sec >= 0:
                text += _pick(_LINK, u[9]) + banks.core(SENTIMENT_PRAISE, ASPECTS[sec], k, u[10], paid=paid)
            close = _pick(_CLOSE_PRAISE, u[12])
            if u[11] < 0.45 and close[1:] not in text:
                text += close
            text += _pick(_END_PRAISE, u[13])
        elif s == SENTIMENT_MIXED:
            # Praise for another aspect (or a lukewarm opener), then the complaint that matters.
            if sec >= 0 and u[5] < 0.6:
                head = banks.core(SENTIMENT_PRAISE, ASPECTS[sec], k, u[10], paid=paid)
            else:
                head = _pick(_MIXED_OPEN, u[6])
            text = (
                head
                + _pick(_MIXED_BRIDGE, u[9])
                + banks.core(SENTIMENT_COMPLAINT, p_aspect, k, u[8], paid=paid)
            )
            if u[11] < 0.3:
                text += _pick(_CLOSE_COMPLAINT, u[12])
            text += _pick(_END_COMPLAINT, u[13])
        else:
            text = _pick(_OPEN_COMPLAINT, u[6]) if u[5] < 0.35 else ""
            text += banks.core(SENTIMENT_COMPLAINT, p_aspect, k, u[8], paid=paid)
            if sec >= 0:
                text += _pick(_LINK, u[9]) + banks.core(
                    SENTIMENT_COMPLAINT, ASPECTS[sec], k, u[10], paid=paid
                )
            if u[11] < 0.55:
                angry = lvl >= 3 and u[14] < 0.5
                text += _pick(_CLOSE_ANGRY if angry else _CLOSE_COMPLAINT, u[12])
            text += _pick(_END_COMPLAINT, u[13])
        out.append(text.format_map(slots))
    return out
