"""Fault drills against the TMDb emulator: ``python drills/run.py [--quick]`` (see drills/run.py)."""
