"""Tables for the notebooks: a frame shown masked, escaped and cut.

:func:`show_table` displays a frame with personal data masked and every cell
HTML-escaped, so text from the evidence never renders as markup
(re-exported by :mod:`forensics.views.widgets`).
"""

from __future__ import annotations

import dataclasses

import polars as pl

from ..privacy import escape, mask_frame

__all__ = ["Table", "show_table"]


@dataclasses.dataclass(frozen=True)
class Table:
    """A frame made safe for display: masked, escaped, cut to ``max_rows``.

    Renders as an HTML table in a notebook and as plain text elsewhere
    (``repr``), which is what nbval compares in checked cells.
    """

    frame: pl.DataFrame  # already masked, formatted as text, cut
    total: int
    caption: str | None = None

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{escape(c)}</th>" for c in self.frame.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(v)}</td>" for v in row) + "</tr>"
            for row in self.frame.iter_rows()
        )
        caption = f"<caption>{escape(self._caption())}</caption>"
        return (
            f'<table class="forensics-table">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    def _caption(self) -> str:
        shown = f"{self.frame.height} of {self.total} rows"
        return f"{self.caption} ({shown})" if self.caption else shown

    def __repr__(self) -> str:
        lines = [self._caption(), " | ".join(self.frame.columns)]
        lines += [" | ".join("" if v is None else v for v in row) for row in self.frame.iter_rows()]
        return "\n".join(lines)


def show_table(
    frame: pl.DataFrame,
    *,
    reveal: bool = False,
    max_rows: int = 20,
    tz: str | None = None,
    max_chars: int = 120,
    caption: str | None = None,
) -> Table:
    """A frame ready to display: personal data masked, every cell escaped.

    Parameters
    ----------
    frame : polars.DataFrame
        Any frame; columns named like personal data (``buyer_name``,
        ``phone``, ``address``) are masked unless ``reveal``.
    reveal : bool, optional
        Show personal data unmasked (for an authorised investigator only).
    max_rows : int, optional
        Rows shown; the caption says how many there were.
    tz : str, optional
        Show time-zone-aware timestamps in this zone (default: as stored).
    max_chars : int, optional
        Longer cells are cut with an ellipsis.
    caption : str, optional

    Returns
    -------
    Table
        Displays as an escaped HTML table; ``repr`` gives plain text.

    Examples
    --------
    >>> import polars as pl
    >>> t = show_table(pl.DataFrame({"phone": ["13812345678"], "text": ["<b>hi</b>"]}))
    >>> print(repr(t))
    1 of 1 rows
    phone | text
    *******5678 | <b>hi</b>
    >>> "<b>" in t._repr_html_()
    False
    """
    shown = mask_frame(frame.head(max_rows), reveal=reveal)
    cols = []
    for name, dtype in shown.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            if tz is not None and dtype.time_zone is not None:
                col = col.dt.convert_time_zone(tz)
            col = col.dt.strftime("%Y-%m-%d %H:%M:%S")
        elif isinstance(dtype, pl.List | pl.Array):
            col = col.cast(pl.List(pl.String)).list.join(", ")
        elif isinstance(dtype, pl.Struct):
            col = col.struct.json_encode()
        text = col.cast(pl.String).str.replace_all(r"[\r\n]+", " ")
        cut = (
            pl.when(text.str.len_chars() > max_chars)
            .then(text.str.slice(0, max_chars - 1) + "…")
            .otherwise(text)
        )
        cols.append(cut.alias(name))
    return Table(shown.select(cols), frame.height, caption)
