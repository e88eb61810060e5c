"""Personal data and untrusted text, made safe for every output.

Buyers' names, phone numbers and addresses are masked in every display and
export unless the caller passes ``reveal=True``. Text that came from the
evidence (complaint text, names, camera notes) is escaped for HTML, and CSV
cells are defused so a spreadsheet never evaluates them as formulas.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

import polars as pl

__all__ = [
    "PERSONAL_COLUMNS",
    "mask_name",
    "mask_phone",
    "mask_address",
    "mask_phone_numbers",
    "mask_frame",
    "escape",
    "json_embeddable",
    "csv_safe",
    "csv_safe_frame",
    "write_csv",
]

PERSONAL_COLUMNS = ("buyer_name", "phone", "address")
"""Columns of orders.csv that hold personal data."""


def mask_name(name: str | None) -> str | None:
    """Keep the first character only.

    >>> mask_name("王艳颖")
    '王**'
    >>> mask_name("Alice Smith")
    'A**********'
    """
    if name is None:
        return None
    name = str(name)
    return name[:1] + "*" * max(len(name) - 1, 0) if name else name


def mask_phone(phone: str | None) -> str | None:
    """Keep the last four digits.

    >>> mask_phone("13812345678")
    '*******5678'
    """
    if phone is None:
        return None
    phone = str(phone)
    if len(phone) <= 6:  # too short to keep any digit
        return "*" * len(phone)
    return "*" * (len(phone) - 4) + phone[-4:]


def mask_address(address: str | None) -> str | None:
    """Keep the first six characters (province and city), hide the rest.

    >>> mask_address("浙江省杭州市西湖区文三路 90 号")
    '浙江省杭州市***'
    """
    if address is None:
        return None
    address = str(address)
    return address[:6] + "***" if len(address) > 6 else "***"


# Mainland mobile numbers (optionally +86) and landlines with an area code.
_PHONE_IN_TEXT = re.compile(
    r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"
)


def mask_phone_numbers(text: str) -> str:
    """Every phone number written in free text, masked with :func:`mask_phone`.

    For text that may repeat a buyer's number where it is not expected (a
    complaint, a damaged row shown as found).

    >>> mask_phone_numbers("call me on 13812345678 or 0571-88889999")
    'call me on *******5678 or *********9999'
    """
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m[0]) or "", text)


def _mask_expr(column: str) -> pl.Expr:
    c = pl.col(column).cast(pl.String)
    if column == "phone":
        n = c.str.len_chars().cast(pl.Int64)
        stars = lambda k: pl.lit("*").repeat_by(k.clip(0)).list.join("")  # noqa: E731
        return (
            pl.when(n <= 6).then(stars(n)).otherwise(pl.concat_str(stars(n - 4), c.str.slice(-4)))
        ).alias(column)
    if column == "address":
        return (
            pl.when(c.str.len_chars() > 6).then(c.str.slice(0, 6) + "***").otherwise(pl.lit("***"))
        ).alias(column)
    return pl.concat_str(
        c.str.slice(0, 1),
        pl.lit("*").repeat_by((c.str.len_chars().cast(pl.Int64) - 1).clip(0)).list.join(""),
    ).alias(column)


def mask_frame(
    frame: pl.DataFrame, *, reveal: bool = False, columns: Iterable[str] = PERSONAL_COLUMNS
) -> pl.DataFrame:
    """``frame`` with every personal column present masked (unless ``reveal``)."""
    if reveal:
        return frame
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    return frame.with_columns(
        pl.when(pl.col(c).is_null()).then(None).otherwise(_mask_expr(c)).alias(c) for c in present
    )


def escape(text: object) -> str:
    """HTML-escape anything that came from the evidence (quotes included)."""
    return html.escape("" if text is None else str(text), quote=True)


_JSON_HTML = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def json_embeddable(text: str) -> str:
    """JSON text with ``<``, ``>`` and ``&`` written as ``\\u003c``, ``\\u003e``, ``\\u0026``.

    The same JSON value, but safe to place inside an HTML ``<script>`` element
    (no ``</script>`` or ``<!--`` can appear), as Go's encoder and Django's
    ``json_script`` write it. Those characters only occur inside JSON strings,
    where the escapes mean the same character.

    >>> print(json_embeddable('{"note": "</script><b>&"}'))
    {"note": "\\u003c/script\\u003e\\u003cb\\u003e\\u0026"}
    """
    return text.translate(_JSON_HTML)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """Defuse a cell a spreadsheet would evaluate (OWASP CSV injection).

    >>> csv_safe("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> csv_safe(-3)
    -3
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every string cell passed through :func:`csv_safe`."""
    risky = pl.col(pl.String).str.contains(r"^[=+\-@\t\r]")
    return frame.with_columns(
        pl.when(risky)
        .then(pl.lit("'") + pl.col(pl.String))
        .otherwise(pl.col(pl.String))
        .name.keep()
    )


def write_csv(frame: pl.DataFrame, path, *, reveal: bool = False) -> None:
    """Write ``frame`` as CSV with personal data masked and formulas defused.

    Timestamps and other non-string columns are written as text by polars.
    """
    out = csv_safe_frame(mask_frame(frame, reveal=reveal))
    out.write_csv(path)
