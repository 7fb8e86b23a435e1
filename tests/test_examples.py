"""The runnable examples run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_phi_example_kg(tmp_path):
    out = _run(str(EXAMPLES / "phi_example_kg.py"), "--plot", str(tmp_path / "phi.png"))
    assert "partially generalizable" in out
    assert (tmp_path / "phi.png").exists()


def test_load_formats(tmp_path):
    out = _run(str(EXAMPLES / "load_formats.py"), str(tmp_path))
    assert out.count("same facts: True") == 6


@pytest.mark.slow
def test_bounds_table():
    out = _run(str(EXAMPLES / "bounds_table.py"))
    assert "Lemma 1" in out and "min |V| = None" in out
