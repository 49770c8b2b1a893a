"""The class load benchmark (benchmarks/class_load.py) on a tiny schedule: scripted students and real Chromium pages.

The benchmark's figures are measured by hand (docs/classroom.md); here it is
run for a few seconds to check that both kinds of page are timed: every
scripted student and every real page redraws every quarter, and the report
has each kind's advance-to-redraw apart.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow  # a class server and a real Chromium

CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (see .ci/run)", pytrace=False)
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI runs this test", allow_module_level=True)


def test_the_load_benchmark_times_scripted_students_and_real_pages_apart():
    schedule = ["--students", "3", "--real", "2", "--every", "2", "--before", "2", "--pause", "2", "--after", "1"]
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "class_load.py"), *schedule],
                          capture_output=True, text=True, timeout=300, cwd=REPO)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["students"] == 3 and report["quarters"] == 3 and report["views_missing"] == 0
    real = report["real_pages"]
    assert real["pages"] == 2 and real["redraws_missing"] == 0
    for timed in (report, real):
        waits = timed["advance_to_redraw_s"]
        assert 0 < waits["p50"] <= waits["p95"] <= waits["max"] < 30
        assert timed["first_after_pause_s"] is not None
    assert set(report["memory"]) == {"before_mb", "with_the_class_mb", "peak_during_mb", "after_mb"}
