"""The counting core on Spark (local mode) gives exactly the polars table.

Needs the ``spark`` extra (``pip install -e '.[spark]'``) and Java 17 or
later on PATH (or in JAVA_HOME); skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from forensics import load
from forensics.scale.core import core_counts, main, prepare
from forensics.scale.portable import core_counts_spark, spark_session
from forensics.synth import generate

pytest.importorskip("pyspark", reason="pyspark not installed (pip install -e '.[spark]')")
pytest.importorskip("pyarrow", reason="pyarrow not installed (pip install -e '.[spark]')")

# pyspark warns about a pandas it does not use here (results come back through Arrow).
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support:FutureWarning")


def _java_major() -> int | None:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home, "bin", "java")) if home else shutil.which("java")
    if not java or not Path(java).exists():
        return None
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)', out.stderr + out.stdout)
    return int(found.group(1)) if found else None


_JAVA = _java_major()
if _JAVA is None or _JAVA < 17:
    pytest.skip(
        f"Spark 4 needs Java 17+ (found: {_JAVA or 'no java on PATH or JAVA_HOME'})",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def spark():
    session = spark_session(
        "local[2]",
        app_name="forensics-tests",
        **{
            "spark.driver.memory": "1g",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.sql.session.timeZone": "UTC",
        },
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def case_and_prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark")
    generate(root / "case", scenario="third_party_app", seed=2, orders=8000, progress=False)
    case = load(root / "case")
    return case, prepare(case, root / "prepared")


def test_spark_counts_equal_polars(spark, case_and_prepared):
    case, prepared = case_and_prepared
    local = core_counts(case)
    got = core_counts_spark(spark, prepared)
    assert local.height > 10 and local["hits"].sum() > 0
    assert got.equals(local)


def test_command_line_count(spark, case_and_prepared, tmp_path):
    case, prepared = case_and_prepared
    out = tmp_path / "counts.parquet"
    # The running session is reused (getOrCreate); --master would pick a cluster.
    assert main(["count", str(prepared), "--out", str(out)]) == 0
    assert pl.read_parquet(out).equals(core_counts(case))
