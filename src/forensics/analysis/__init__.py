"""The investigation's steps, in the order docs/method.md explains them.

- :mod:`.sessions`: back-office sessions from login/logout events
- :mod:`.clock`: offsets of unsynchronized clocks (camera NVR)
- :mod:`.complaints`: complaints to orders, and whether they form a spike
- :mod:`.exposure`: which orders each access path could have seen
- :mod:`.commonpoint`: which path saw the complained orders (the statistics)
- :mod:`.indicators`: behaviours investigators look for, each traced to a row
- :mod:`.suspects`: which path leaked, and who is behind it
- :mod:`.graph`: the evidence graph from complaints to people
- :mod:`.timeline`: one timeline across every source

:func:`forensics.investigate` runs them in that order.
"""

__all__: list[str] = []
