"""The counting core alone, for benchmarks and cases too big for one machine.

- :mod:`.core`: :func:`~.core.core_counts`, the common-point counts of
  :func:`forensics.investigate` without the rest of the investigation
- :mod:`.portable`: the same counts written once on narwhals (polars or Spark),
  and ``python -m forensics.scale prepare|count``
- :mod:`.sweep`: the distinct-order sweep every counting route shares
"""

__all__: list[str] = []
