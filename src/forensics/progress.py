"""Progress bars that work in a terminal and in a notebook (tqdm.auto)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["steps"]


def steps(total: int, desc: str, *, enabled: bool = True) -> Callable[[str], None]:
    """A bar of ``total`` named steps; call the result with each step's name.

    >>> advance = steps(2, "demo", enabled=False)
    >>> advance("first"); advance("second")
    """
    if not enabled:
        return lambda name: None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit="step", leave=False)

    def advance(name: str) -> None:
        bar.set_postfix_str(name)
        bar.update(1)
        if bar.n >= total:
            bar.close()

    return advance
