"""Evidence in from other tools' formats, and the timeline out.

- :mod:`~forensics.interchange.evtx`: Windows event logs to ``endpoint.csv``
  (``forensics import evtx``), mapped by :mod:`~forensics.interchange.windows`;
- :mod:`~forensics.interchange.vendor`: any vendor CSV/XLSX table to a case
  table through a TOML mapping (``forensics import csv``; shipped mappings in
  ``mappings/``);
- :mod:`~forensics.interchange.caseout`: the create-or-append rule for the
  case being built, and ``import-log.jsonl``;
- :mod:`~forensics.interchange.export`: the case's timeline as Timesketch
  JSONL or a spreadsheet-safe CSV (``forensics timeline``).
"""

from __future__ import annotations

from .caseout import IMPORT_LOG, Written, append_rows, stable_id, write_log
from .evtx import EvtxImport, import_evtx
from .export import export_frame, write_timeline_csv, write_timesketch
from .vendor import TableImport, VendorMapping, import_table, load_mapping, shipped_mappings

__all__ = [
    "IMPORT_LOG",
    "Written",
    "append_rows",
    "stable_id",
    "write_log",
    "EvtxImport",
    "import_evtx",
    "TableImport",
    "VendorMapping",
    "import_table",
    "load_mapping",
    "shipped_mappings",
    "export_frame",
    "write_timesketch",
    "write_timeline_csv",
]
