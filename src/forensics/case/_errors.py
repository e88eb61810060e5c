"""The one exception of the loader (re-exported as ``forensics.case.CaseError``).

It lives in its own module so the private readers can raise it without
importing :mod:`forensics.case`, which imports them.
"""

from __future__ import annotations

__all__ = ["CaseError", "OutputInCaseError"]


class CaseError(Exception):
    """The case cannot be loaded: a required file or column is missing, a
    file is not in a format or encoding we can read, case.toml is invalid.

    The message names the file (and the line and column when there is one).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ):
        super().__init__(message)
        self.file = file
        self.row = row
        self.column = column


class OutputInCaseError(CaseError, ValueError):
    """An output folder was asked for inside the case folder, which is
    evidence and never written to (:func:`forensics.case.custody.output_folder`).
    The command line prints it and exits with status 2."""
