"""forensics: investigate leaks of e-commerce order data."""

from .case import Case, CaseError, load

load_case = load

__all__ = ["Case", "CaseError", "load", "load_case", "__version__"]
__version__ = "0.1.0"
