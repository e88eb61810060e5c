"""Synthetic leak cases: the scenario generator behind ``datasets/`` and the tests.

A generated case is a shop (staff, desks, accounts, apps), a period of
orders, ordinary office life with its decoys (night shifts in a sale,
IT staff with a USB stick, the owner working from home, a second new hire,
a legitimate new app, a former employee's forgotten account, unrelated
scam complaints) and one leak staged on top, with ``truth.json`` saying
what really happened. See :mod:`forensics.synth.plots` for the scenarios
and their truth conventions.

Examples
--------
>>> case = simulate("usb_malware", seed=1, orders=1500)
>>> case.truth["vector"]
'usb_malware'
>>> len(case.truth["machine_ids"]) <= 6
True
"""

from .build import SyntheticCase, leaked_exposure, simulate
from .output import PARQUET_ABOVE, generate, prepare_folder, write_case
from .plots import VECTORS

__all__ = [
    "generate",
    "simulate",
    "write_case",
    "prepare_folder",
    "leaked_exposure",
    "SyntheticCase",
    "VECTORS",
    "PARQUET_ABOVE",
]
