"""One step of `make demo`, for a person: a title, the assets' own progress lines, and how long it took; the
whole output of the command (Dagster's debug, event and migration logs) goes to a log file instead.

``python -m movie_assets.cli.demo_step --log FILE --title TEXT -- COMMAND...``. A step that fails prints the
end of the log and the log's path, and exits with the command's status.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

# A Dagster log line of an asset: "<time> - dagster - INFO - <job> - <run id> - <step> - <message>"; Dagster's
# own events put the process id before the step ("... - <run id> - <pid> - <step> - STEP_FAILURE - ...").
ASSET_LINE = re.compile(r" - dagster - (?P<level>INFO|WARNING|ERROR) - [^ ]+ - [0-9a-f-]{36} - (?:\d+ - )?"
                        r"(?P<step>[^ ]+) - (?P<message>.*)$")
# Said once per step by every TMDb-calling step: shown once per demo step.
ONCE = ("No TMDb credentials and no TMDB_BASE_URL set",)
TAIL_LINES = 30


def progress_lines(lines: Iterable[str]) -> Iterable[str]:
    """The lines a person wants from a step's output: each asset's own INFO, WARNING and ERROR messages."""
    seen_once: set[str] = set()
    for line in lines:
        match = ASSET_LINE.search(line.rstrip("\n"))
        if match is None:
            continue
        message = match["message"]
        once = next((prefix for prefix in ONCE if message.startswith(prefix)), None)
        if once is not None:
            if once in seen_once:
                continue
            seen_once.add(once)
        level = "" if match["level"] == "INFO" else f"{match['level']}: "
        step = "" if message.startswith(f"{match['step']}:") else f"{match['step']}: "  # says its name itself
        yield f"    {step}{level}{message}"


def run_step(title: str, command: Sequence[str], log: Path) -> int:
    """Run ``command``, appending its output to ``log`` and printing its progress lines; its exit status."""
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"==> {title}", flush=True)
    started = time.monotonic()
    with log.open("a", encoding="utf-8") as sink:
        sink.write(f"\n==> {title}\n$ {' '.join(command)}\n")
        sink.flush()
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                       errors="replace")
        except OSError as exc:
            print(f"    FAILED: cannot run {command[0]!r}: {exc.strerror}", file=sys.stderr)
            return 127
        assert process.stdout is not None

        def teed() -> Iterable[str]:
            for line in process.stdout:
                sink.write(line)
                yield line

        for shown in progress_lines(teed()):
            print(shown, flush=True)
        status = process.wait()
    seconds = time.monotonic() - started
    if status == 0:
        print(f"    done in {seconds:.0f}s", flush=True)
        return 0
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-TAIL_LINES:]
    print(f"    FAILED after {seconds:.0f}s (exit {status}); the end of the log:", file=sys.stderr)
    print("\n".join(f"    | {line}" for line in tail), file=sys.stderr)
    print(f"    the whole log: {log}", file=sys.stderr)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m movie_assets.cli.demo_step", description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, required=True, help="the file the command's whole output is appended to")
    parser.add_argument("--title", required=True, help="what the step does, in words")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("name the command to run after --")
    return run_step(args.title, command, args.log)


if __name__ == "__main__":
    sys.exit(main())
