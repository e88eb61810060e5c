"""Loading a case folder: read-only, typed, validated, hashed (CASE_FORMAT.md).

- :mod:`.loader`: :func:`load` and the immutable :class:`Case`
- :mod:`.schema`: the declarative table schemas of the contract
- :mod:`._casetoml`, :mod:`._readers`, :mod:`._cells`, :mod:`._tables`: case.toml,
  bytes to raw cells, cells to typed values, whole-table checks
- :mod:`._errors`: :class:`CaseError`, the one exception of loading
- :mod:`.validation`: ``forensics validate``, what was read file by file
- :mod:`.custody`: ``forensics verify``, re-hashing a case against its findings;
  :func:`~.custody.output_folder`, the one refusal to write inside a case
- :mod:`.localtime`: local time of a case and shifts
"""

from ._errors import OutputInCaseError
from .loader import Case, CaseError, CaseMeta, InputFile, load
from .schema import as_text, typed_like

__all__ = [
    "Case",
    "CaseMeta",
    "InputFile",
    "CaseError",
    "OutputInCaseError",
    "load",
    "as_text",
    "typed_like",
]
