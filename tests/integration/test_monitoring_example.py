"""The monitoring walkthrough runs end to end against a fresh server, as a new user would run it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from shipyard.testing import start_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "monitoring.py"
#: Capture and alarms at a test's pace rather than every minute.
FAST = {"SHIPYARD_CAPTURE_FLUSH_SECONDS": "1", "SHIPYARD_ALARM_EVALUATION_SECONDS": "1", "SHIPYARD_METRICS_FLUSH_SECONDS": "1"}


def test_monitoring_example_catches_the_drift_of_one_feature(tmp_path):
    with start_server(tmp_path, extra_env=FAST) as server:
        finished = subprocess.run(
            [sys.executable, str(EXAMPLE)],
            env=server.client_env(),
            check=False,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=240,
        )
        out = finished.stdout
        assert finished.returncode == 0, f"stdout:\n{out}\nstderr:\n{finished.stderr}"

        assert re.search(r"^3\. baseline job \S+: 2000 rows$", out, re.MULTILINE), out
        means = dict(re.findall(r"^  (f[012]): Fractional, mean (-?[0-9.]+), std", out, re.MULTILINE))
        assert set(means) == {"f0", "f1", "f2"} and all(abs(float(mean)) < 0.1 for mean in means.values()), out
        assert re.search(r"^6\. normal traffic: Completed, 0 violations$", out, re.MULTILINE), out
        assert re.search(r"^6\..*\n(?:  .*\n)*  alarm: OK$", out, re.MULTILINE), out
        shifted = re.search(r"^7\. shifted traffic: CompletedWithViolations, (\d+) violations$", out, re.MULTILINE)
        assert shifted and shifted.group(1) == "1", out
        assert re.search(r"^  baseline_drift_check on f2: ", out, re.MULTILINE), out
        assert re.search(r"^  alarm: ALARM \(Threshold Crossed: ", out, re.MULTILINE), out
        assert "8. schedule, alarm and endpoint deleted" in out

        name = re.search(r"^4\. endpoint (\S+):", out, re.MULTILINE).group(1)
        history = server.client("cloudwatch").describe_alarm_history(AlarmName=f"{name}-f2-drift", HistoryItemType="StateUpdate")
        states = [item["HistorySummary"] for item in reversed(history["AlarmHistoryItems"])]
        assert len(states) == 2 and "to OK" in states[0] and "to ALARM" in states[1], states
