"""forensics: investigate leaks of e-commerce order data."""

__version__ = "0.1.0"

from .case import Case, CaseError, load  # noqa: E402
from .findings import Findings  # noqa: E402
from .investigate import investigate  # noqa: E402

load_case = load

__all__ = ["Case", "CaseError", "Findings", "investigate", "load", "load_case", "__version__"]
