"""The fault drills of `drills/run.py` at CI sizes: faults, SIGKILLs, secrets, concurrent readers, churn."""

from __future__ import annotations

import pytest

from drills.run import run


@pytest.mark.slow
@pytest.mark.parametrize("drill", ["faults", "kills", "secrets", "readers", "churn"])
def test_drill_passes_at_ci_size(drill):
    lines: list[str] = []
    outcomes = run(quick=True, only=[drill], echo=lines.append)
    print("\n".join(lines))
    assert outcomes, f"the {drill} drill produced no outcome"
    failed = [o.line() for o in outcomes if not o.ok]
    assert not failed, "\n".join(failed)
