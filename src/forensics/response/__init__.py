"""After the investigation: the report, and the response.

- :mod:`.report`: the self-contained HTML report (``forensics report``)
- :mod:`.leakpath`: the leak path's events, and the infected machines' windows
- :mod:`.buyers`: the orders it exposed, the buyers to warn, the platform report
- :mod:`.remediation`: the checklist of what to fix, each item citing its evidence
- :mod:`.respond`: all of it as one pack, its files and ``forensics respond``
"""

__all__: list[str] = []
