"""The camera clock offset is estimated, not assumed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from forensics import load
from forensics.analysis.clock import estimate_offsets, format_offset
from forensics.synth import generate, simulate


@pytest.mark.parametrize("seed", [1, 2, 4, 5, 11])
def test_offset_recovered_within_half_a_minute(tmp_path, seed):
    truth = simulate(scenario="usb_malware", seed=seed, orders=2500)
    generate(tmp_path / "case", scenario="usb_malware", seed=seed, orders=2500, progress=False)
    offsets = estimate_offsets(load(tmp_path / "case"))
    if truth.camera_offset == 0:
        assert "camera" not in offsets  # an in-sync camera is not marked unsynchronized
        return
    est = offsets["camera"]
    assert abs(est.offset.total_seconds() - truth.camera_offset) <= 30
    assert est.confidence > 0.5 and est.pairs > 100


def test_offset_text():
    assert format_offset(timedelta(minutes=7, seconds=36)) == "+00:07:36"
    assert format_offset(timedelta(minutes=-5, seconds=-47)) == "-00:05:47"
