"""Buyer complaints: the leak's victims plus an unrelated background.

A share of leaked buyers get a scam call a day or two after their order was
exposed and complain soon after (only complaints received before the case
was opened are kept). Unrelated scam complaints arrive all along at a low
rate from buyers whose orders did not leak (other breaches exist: couriers,
other shops). Texts are free, mixed Chinese and English, and carry some
hostile content (links, markup) the tool must treat as untrusted.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ._time import DAY, HOUR, MINUTE

__all__ = ["make_complaints", "FIELDS_ALL", "FIELDS_LABEL"]

FIELDS_ALL = ("name", "phone", "address", "item", "amount", "order_id")
FIELDS_LABEL = ("name", "phone", "address")  # what a shipping label shows

_CATEGORIES = ("scam_call", "fake_refund", "phishing_link", "harassment", "other")
_P_LEAK = (0.62, 0.18, 0.10, 0.06, 0.04)
_P_BACKGROUND = (0.45, 0.17, 0.28, 0.05, 0.05)
_CN_FIELD = {
    "name": "姓名",
    "phone": "手机号",
    "address": "收货地址",
    "item": "买了哪件衣服",
    "amount": "订单金额",
    "order_id": "订单号",
}
_EN_FIELD = {
    "name": "name",
    "phone": "phone number",
    "address": "address",
    "item": "what I bought",
    "amount": "the amount I paid",
    "order_id": "order number",
}
_TEXTS = {
    "scam_call": (
        "今天接到自称是店铺客服的电话，说我买的衣服有质量问题要给我退款，对方知道我的{cn}。",
        "有人打电话冒充你们客服，准确说出了我的{cn}，让我加QQ办理理赔，怎么回事？",
        "骗子打电话说快递丢了要赔偿，连{cn}都知道，你们是不是泄露了我的信息！",
        "接到诈骗电话，对方报出我的{cn}，请尽快处理！",
        "刚才一个陌生号码打来，说是售后，知道我的{cn}，我没有相信。",
        "Someone called pretending to be your customer service. They knew my {en}. "
        "Has my data been leaked?",
        "Got a scam call about a refund for my order; the caller knew my {en}.",
    ),
    "fake_refund": (
        "对方说我的订单重复扣款要退款，让我下载会议软件共享屏幕，还知道我的{cn}，差点被骗。",
        "有人说衣服质检不合格给我三倍赔偿，让我开通备用金，他们知道我的{cn}。",
        "Caller offered a double-payment refund and asked me to install a screen-sharing app. "
        "They knew my {en}.",
    ),
    "phishing_link": (
        "收到短信说订单异常需要退款，附了一个链接 {url} ，里面要填银行卡号，还写了我的{cn}。",
        "短信：【售后】您的订单商品需召回，点击 {url} 办理退款。对方知道我的{cn}。",
        "SMS with a refund link {url} quoting my {en}. Please check.",
    ),
    "harassment": (
        "最近天天有人打电话骚扰，知道我在你们店买过东西，{cn}都知道，严重影响生活。",
        "Strangers keep calling me at night, they know my {en}. Stop leaking my data!",
    ),
    "other": (
        "我的信息是不是被你们泄露了？对方知道我的{cn}，请给个说法。",
        "Please delete my personal information, I keep getting strange calls.",
    ),
}
_FOLLOW_UP = (
    "又接到电话了，还是上次那件事，请尽快处理。",
    "第二次投诉：骗子又打来了，你们到底查了没有？",
    "They called again today. This is my second complaint.",
)
_URLS = (
    "http://tb-refund-center.example.cn/claim?o={n}",
    "https://refund.example-kefu.top/r/{n}",
    "http://t.example.cn/{n}",
)
# Untrusted content a report must escape, not render.
_HOSTILE = (
    "<b>紧急！！</b>骗子知道我的{cn}，快处理",
    "骗子发来的链接是 <script>alert('x')</script> 这样的东西，我没点",
    '第一次电话是上午，对方说"我是客服小李"，知道我的{cn}。\n'
    "下午又打来一次，换了个号码, 还是同一个人",
)


def _daytime(rng: np.random.Generator, t: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Move times outside [lo, hi) hours of the day into the next such window."""
    tod = t % DAY
    early = tod < lo * HOUR
    late = tod >= hi * HOUR
    base = t - tod
    t = np.where(early, base + lo * HOUR + (rng.random(t.size) * 2 * HOUR).astype(np.int64), t)
    return np.where(
        late, base + DAY + lo * HOUR + (rng.random(t.size) * 3 * HOUR).astype(np.int64), t
    )


def _quoted(
    rng: np.random.Generator, n: int, fields: tuple[str, ...], given: float
) -> list[str | None]:
    """``;``-joined fields the scammer knew, drawn from what the path exposes."""
    p = {"name": 0.9, "phone": 0.75, "address": 0.55, "item": 0.6, "amount": 0.5, "order_id": 0.45}
    draws = rng.random((n, len(fields)))
    has = rng.random(n) < given
    out: list[str | None] = []
    for i in range(n):
        if not has[i]:
            out.append(None)
            continue
        chosen = [f for j, f in enumerate(fields) if draws[i, j] < p[f]] or [fields[0]]
        out.append(";".join(chosen))
    return out


def _texts(rng: np.random.Generator, category: list[str], quoted: list[str | None]) -> list[str]:
    out = []
    for cat, q in zip(category, quoted, strict=True):
        fields = q.split(";") if q else []
        cn = "、".join(_CN_FIELD[f] for f in fields) if fields else "个人信息"
        en = ", ".join(_EN_FIELD[f] for f in fields) if fields else "details"
        options = _TEXTS[cat]
        url = _URLS[int(rng.integers(len(_URLS)))].format(n=int(rng.integers(1000, 99999)))
        out.append(options[int(rng.integers(len(options)))].format(cn=cn, en=en, url=url))
    return out


def _frame(buyer_id, order_id, received, category, text, contacted, quoted) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "buyer_id": buyer_id,
            "order_id": order_id,
            "received_at": received,
            "category": category,
            "text": text,
            "contacted_at": contacted,
            "quoted_fields": quoted,
        },
        schema={
            "buyer_id": pl.String,
            "order_id": pl.String,
            "received_at": pl.Int64,
            "category": pl.String,
            "text": pl.String,
            "contacted_at": pl.Int64,
            "quoted_fields": pl.String,
        },
    )


def _victims(rng, orders, exposure, opened_at, fields, cap) -> pl.DataFrame:
    """Complaints of leaked buyers, about the first of their orders to leak."""
    first = (
        exposure.join(orders.select("_idx", "buyer_id", "order_id", "placed_at"), on="_idx")
        .sort(["first_at", "_idx"])
        .group_by("buyer_id", maintain_order=True)
        .first()
    )
    n = first.height
    if n == 0:
        return _frame([], [], [], [], [], [], [])
    share = min(rng.uniform(0.28, 0.55), cap / n)
    first = first.filter(pl.Series(rng.random(n) < share))
    n = first.height
    exposed = np.maximum(first["first_at"].to_numpy(), first["placed_at"].to_numpy())
    call = exposed + np.maximum(rng.lognormal(np.log(30 * HOUR), 0.6, n), 2 * HOUR).astype(np.int64)
    call = _daytime(rng, call, 9, 21)
    received = call + np.maximum(rng.lognormal(np.log(5 * HOUR), 1.0, n), 10 * MINUTE).astype(
        np.int64
    )
    received = _daytime(rng, received, 8, 23)
    category = list(rng.choice(_CATEGORIES, n, p=_P_LEAK))
    quoted = _quoted(rng, n, fields, 0.6)
    order_id = first["order_id"].scatter(np.flatnonzero(rng.random(n) < 0.22), None)
    contacted = pl.Series(call).scatter(np.flatnonzero(rng.random(n) < 0.45), None)
    df = _frame(
        first["buyer_id"],
        order_id,
        received,
        category,
        _texts(rng, category, quoted),
        contacted,
        quoted,
    )
    df = df.filter(pl.col("received_at") < opened_at)
    # Some buyers complain twice (another channel, or called again).
    again = df.filter(pl.Series(rng.random(df.height) < 0.07))
    m = again.height
    if m:
        later = again["received_at"].to_numpy() + rng.integers(4 * HOUR, 3 * DAY, m)
        dup = again.with_columns(
            pl.Series("received_at", _daytime(rng, later, 8, 23)),
            pl.Series("text", [_FOLLOW_UP[int(i)] for i in rng.integers(0, len(_FOLLOW_UP), m)]),
            again["order_id"].scatter(np.flatnonzero(rng.random(m) < 0.5), None),
            pl.lit(None, pl.Int64).alias("contacted_at"),
        )
        df = pl.concat([df, dup.filter(pl.col("received_at") < opened_at)])
    return df


def _background(rng, orders, leaked_buyers, start, opened_at, rate) -> pl.DataFrame:
    """Scam complaints unrelated to this shop's leak, all period long."""
    n_want = int(rng.poisson(max(3.0, rate * orders.height)))
    clean = orders.filter(
        ~pl.col("buyer_id").is_in(leaked_buyers) & (pl.col("placed_at") < opened_at - DAY)
    )
    if clean.height == 0 or n_want == 0:
        return _frame([], [], [], [], [], [], [])
    pick = clean[rng.choice(clean.height, size=min(n_want * 2, clean.height), replace=False)]
    pick = pick.unique("buyer_id", keep="first", maintain_order=True).head(n_want)
    n = pick.height
    received = pick["placed_at"].to_numpy() + rng.integers(DAY, 20 * DAY, n)
    received = _daytime(rng, received, 8, 23)
    category = list(rng.choice(_CATEGORIES, n, p=_P_BACKGROUND))
    # Other breaches (couriers) know what a label shows, rarely more.
    quoted = _quoted(rng, n, FIELDS_LABEL, 0.5)
    contacted = pl.Series(received - rng.integers(HOUR, 2 * DAY, n)).scatter(
        np.flatnonzero(rng.random(n) < 0.6), None
    )
    order_id = pick["order_id"].scatter(np.flatnonzero(rng.random(n) < 0.3), None)
    df = _frame(
        pick["buyer_id"],
        order_id,
        received,
        category,
        _texts(rng, category, quoted),
        contacted,
        quoted,
    )
    return df.filter((pl.col("received_at") < opened_at) & (pl.col("received_at") >= start))


def _hostile(rng: np.random.Generator, df: pl.DataFrame) -> pl.DataFrame:
    """Put markup, a script tag and a multi-line quoted text into three complaints."""
    if df.height < len(_HOSTILE):
        return df
    rows = rng.choice(df.height, len(_HOSTILE), replace=False)
    text = df["text"].to_list()
    for r, template in zip(rows.tolist(), _HOSTILE, strict=True):
        q = df["quoted_fields"][r]
        cn = "、".join(_CN_FIELD[f] for f in q.split(";")) if q else "个人信息"
        text[r] = template.format(cn=cn)
    return df.with_columns(pl.Series("text", text, dtype=pl.String))


def make_complaints(
    rng: np.random.Generator,
    orders: pl.DataFrame,
    exposure: pl.DataFrame,
    *,
    start: int,
    opened_at: int,
    fields: tuple[str, ...] = FIELDS_ALL,
    background_rate: float = 0.0025,
) -> pl.DataFrame:
    """All complaints received before the case was opened.

    Parameters
    ----------
    orders : polars.DataFrame
        With ``_idx`` (row number), ``order_id``, ``buyer_id``, ``placed_at``.
    exposure : polars.DataFrame
        ``_idx`` and ``first_at`` of every leaked order (empty: no leak).
    fields : tuple of str
        What the leak path exposes; quoted fields are drawn from it.
    background_rate : float
        Unrelated complaints per order over the period.
    """
    # Scammers cannot call everyone: big leaks yield proportionally fewer complaints.
    cap = max(120.0, 0.03 * orders.height)
    victims = _victims(rng, orders, exposure, opened_at, fields, cap)
    leaked_buyers = (
        exposure.join(orders.select("_idx", "buyer_id"), on="_idx")["buyer_id"].unique().to_list()
    )
    background = _background(rng, orders, leaked_buyers, start, opened_at, background_rate)
    df = pl.concat([victims, background]).sort("received_at", maintain_order=True)
    return _hostile(rng, df)
