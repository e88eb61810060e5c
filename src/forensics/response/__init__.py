"""After the investigation: the report, and the response.

- :mod:`.report`: the self-contained HTML report (``forensics report``)
- :mod:`.respond`: affected buyers, the platform report and the remediation
  checklist (``forensics respond``)
"""

__all__: list[str] = []
