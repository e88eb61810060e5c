"""Plausible but fake Chinese personal data: names, mobile numbers, addresses.

Everything is drawn from short built-in lists with a numpy generator, so it
is deterministic for a seed and costs a few vectorised gathers even for
millions of buyers. The combinations are invented; any resemblance to a
real person is chance.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["person_names", "buyer_identities", "SURNAMES", "GIVEN"]

# The most common surnames, roughly in frequency order (so a Zipf-like
# draw over the list gives a realistic mix).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红玲燕辉鹏飞婷雪琳晶颖倩雯佳欣怡悦瑶梦露蕾蓉琴"
    "莉慧雅婉淑晓春秋冬梅兰菊竹云霏思雨佩琪若彤子涵梓萱可馨浩宇轩博文昊然天佑俊杨帆磊鑫宏伟建国志刚海燕"
)

# (province, city, districts). Municipalities repeat the city as province.
_PLACES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("浙江省", "杭州市", ("西湖区", "拱墅区", "上城区", "滨江区", "余杭区", "萧山区")),
    ("浙江省", "宁波市", ("海曙区", "江北区", "鄞州区")),
    ("浙江省", "温州市", ("鹿城区", "瓯海区")),
    ("江苏省", "南京市", ("玄武区", "秦淮区", "鼓楼区", "江宁区")),
    ("江苏省", "苏州市", ("姑苏区", "吴中区", "工业园区")),
    ("江苏省", "无锡市", ("梁溪区", "滨湖区")),
    ("上海市", "上海市", ("浦东新区", "徐汇区", "静安区", "闵行区", "杨浦区", "宝山区")),
    ("北京市", "北京市", ("朝阳区", "海淀区", "丰台区", "东城区", "昌平区")),
    ("广东省", "广州市", ("天河区", "越秀区", "海珠区", "白云区", "番禺区")),
    ("广东省", "深圳市", ("南山区", "福田区", "宝安区", "龙岗区")),
    ("广东省", "东莞市", ("南城街道", "东城街道")),
    ("福建省", "厦门市", ("思明区", "湖里区")),
    ("福建省", "福州市", ("鼓楼区", "台江区")),
    ("山东省", "济南市", ("历下区", "市中区")),
    ("山东省", "青岛市", ("市南区", "崂山区", "黄岛区")),
    ("四川省", "成都市", ("锦江区", "武侯区", "高新区", "青羊区")),
    ("湖北省", "武汉市", ("江汉区", "武昌区", "洪山区")),
    ("湖南省", "长沙市", ("岳麓区", "芙蓉区", "雨花区")),
    ("河南省", "郑州市", ("金水区", "中原区")),
    ("陕西省", "西安市", ("雁塔区", "碑林区", "未央区")),
    ("安徽省", "合肥市", ("蜀山区", "包河区")),
    ("天津市", "天津市", ("和平区", "南开区", "河西区")),
    ("重庆市", "重庆市", ("渝中区", "江北区", "南岸区")),
    ("辽宁省", "沈阳市", ("和平区", "沈河区")),
    ("江西省", "南昌市", ("东湖区", "红谷滩区")),
    ("云南省", "昆明市", ("五华区", "盘龙区")),
)
_ROADS = (
    "人民路",
    "解放路",
    "建设路",
    "中山路",
    "文三路",
    "文一西路",
    "学院路",
    "长江路",
    "黄河路",
    "新华路",
    "和平路",
    "胜利路",
    "光明路",
    "幸福路",
    "青年路",
    "湖滨路",
    "滨江大道",
    "科技路",
    "工业路",
    "北京路",
    "南京路",
    "东风路",
    "朝阳路",
    "府前街",
    "花园街",
    "桂花路",
    "丽水路",
    "紫荆路",
    "天目山路",
    "延安路",
)
_COMMUNITIES = (
    "",
    "",
    "",
    "阳光花园",
    "锦绣家园",
    "翠苑小区",
    "金色家园",
    "绿城桂花园",
    "万科城",
    "保利香槟",
    "世纪新城",
    "枫林小区",
    "东方明珠苑",
    "碧桂园",
    "香樟苑",
)
# Mainland mobile number prefixes (network segments), weighted by nothing.
_MOBILE_PREFIXES = tuple(
    f"1{n}"
    for n in (
        30,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        38,
        39,
        50,
        51,
        52,
        53,
        55,
        56,
        57,
        58,
        59,
        66,
        73,
        75,
        76,
        77,
        78,
        80,
        81,
        82,
        83,
        85,
        86,
        87,
        88,
        89,
        91,
        98,
        99,
    )
)


def _cat(*parts: pl.Series | pl.Expr) -> pl.Series:
    """Row-wise string concatenation of equally long series."""
    return pl.select(pl.concat_str(list(parts))).to_series()


def _zipf_index(rng: np.random.Generator, n: int, size: int, a: float = 1.1) -> np.ndarray:
    """Indices into a list of ``size`` favouring the front (common names)."""
    w = 1.0 / np.arange(1, size + 1) ** a
    return rng.choice(size, size=n, p=w / w.sum())


def _given(rng: np.random.Generator, n: int) -> pl.Series:
    """Given names of one or two characters (two is more common)."""
    chars = pl.Series(list(GIVEN))
    first = chars.gather(rng.integers(0, len(GIVEN), n))
    second = chars.gather(rng.integers(0, len(GIVEN), n))
    two = pl.Series(rng.random(n) < 0.7)
    return pl.select(pl.when(two).then(pl.concat_str([first, second])).otherwise(first)).to_series()


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct staff names (surname + given name).

    Examples
    --------
    >>> names = person_names(np.random.default_rng(1), 5)
    >>> len(set(names)) == 5
    True
    """
    surnames = pl.Series(list(SURNAMES))
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        k = 2 * (n - len(names)) + 4
        batch = _cat(surnames.gather(_zipf_index(rng, k, len(SURNAMES))), _given(rng, k)).to_list()
        for name in batch:
            if name not in seen and len(names) < n:
                seen.add(name)
                names.append(name)
    return names


def buyer_identities(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """Name, mobile number and delivery address for ``n`` buyers.

    Returns
    -------
    polars.DataFrame
        Columns ``buyer_name``, ``phone``, ``address`` (``n`` rows).
    """
    surnames = pl.Series(list(SURNAMES))
    name = _cat(surnames.gather(_zipf_index(rng, n, len(SURNAMES))), _given(rng, n))

    prefixes = pl.Series(_MOBILE_PREFIXES)
    digits = pl.Series(rng.integers(0, 100_000_000, n, dtype=np.int64)).cast(pl.String)
    phone = _cat(prefixes.gather(rng.integers(0, len(prefixes), n)), digits.str.zfill(8))

    flat = [(p, c, d) for p, c, ds in _PLACES for d in ds]
    # Eastern provinces dominate an east-coast shop's buyers.
    place = _zipf_index(rng, n, len(flat), a=0.6)
    province = pl.Series([p for p, _, _ in flat]).gather(place)
    city = pl.Series([c if c != p else "" for p, c, _ in flat]).gather(place)
    district = pl.Series([d for _, _, d in flat]).gather(place)
    road = pl.Series(_ROADS).gather(rng.integers(0, len(_ROADS), n))
    number = pl.Series(rng.integers(1, 999, n)).cast(pl.String)
    community = pl.Series(_COMMUNITIES).gather(rng.integers(0, len(_COMMUNITIES), n))
    building = pl.Series(rng.integers(1, 30, n)).cast(pl.String)
    room = pl.Series(rng.integers(1, 33, n) * 100 + rng.integers(1, 6, n)).cast(pl.String)
    address = _cat(
        province,
        city,
        district,
        road,
        number,
        pl.lit("号"),
        community,
        building,
        pl.lit("幢"),
        room,
        pl.lit("室"),
    )
    return pl.select(name.alias("buyer_name"), phone.alias("phone"), address.alias("address"))
