"""The library example (examples/weather.py) runs a real pipeline and prints its report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "weather.py"


def test_the_demo_runs_the_weather_pipeline() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert "Inputs: params:days, params:seed" in lines
    assert lines[-1].startswith("Warmest city: Nairobi. Sensor glitches removed: ")
    table = lines[lines.index("Outputs: report") + 3 :]
    assert [row.split()[0] for row in table[1:5]] == ["Nairobi", "Lisbon", "Montreal", "Oslo"]
