"""The vocabularies of forensics.vocab agree with the engine and the charts,
and serialise as the plain strings findings.json has always carried."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forensics import investigate, load
from forensics.analysis.suspects import LINK_KINDS, WEIGHTS
from forensics.synth import VECTORS
from forensics.views.charts._common import _INDICATOR_COLORS
from forensics.vocab import INDICATORS, MALWARE_KINDS, IndicatorKind, VectorKind

DATASETS = Path(__file__).resolve().parents[1] / "datasets"


def test_vector_kinds_are_their_strings():
    assert json.dumps({"kind": VectorKind.USB_MALWARE}) == '{"kind": "usb_malware"}'
    assert f"{VectorKind.NONE}" == "none" and VectorKind("stale_account") == "stale_account"
    assert "visitor_malware" in MALWARE_KINDS and "insider_export" not in MALWARE_KINDS
    assert {VectorKind.THIRD_PARTY_APP: 1}["third_party_app"] == 1


def test_the_scenarios_are_the_reported_kinds():
    assert {k.value for k in VectorKind.scenarios()} == set(VECTORS)
    assert VectorKind.MALWARE not in VectorKind.scenarios()
    assert all(k.wording for k in VectorKind)


def test_every_indicator_is_registered_once_with_its_weight_link_and_colour():
    assert set(INDICATORS) == set(IndicatorKind)
    for name, spec in INDICATORS.items():
        assert spec.name is name and spec.wording
        assert spec.weight == WEIGHTS.get(name), name
        assert spec.links_person == (name in LINK_KINDS), name
        assert spec.colour == _INDICATOR_COLORS.get(name), name
    # every weighed or coloured indicator name of the engine and the charts is registered
    assert set(_INDICATOR_COLORS) <= set(INDICATORS)


@pytest.mark.parametrize("name", ["april-trojan", "insider-export", "stale-account"])
def test_every_indicator_the_engine_writes_is_registered(name):
    case_dir = DATASETS / name
    if not (case_dir / "case.toml").exists():
        pytest.skip(f"datasets/{name} not present")
    findings = investigate(load(case_dir, personal=False), complaint_nodes=False)
    written = set(findings.indicators["indicator"].unique().to_list())
    assert written, "the sample case raises indicators"
    assert written <= {k.value for k in IndicatorKind}
    assert findings.vector.kind in {k.value for k in VectorKind}
