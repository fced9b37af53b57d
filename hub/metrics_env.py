"""Where a hub process's metrics live between scrapes (prometheus-client's multi-process
mode): one directory per deployment under the state directory, shared by every hub process of
that deployment. Set up before anything imports prometheus_client (it reads the variable at
import); kept out of the Ray processes an embedded Ray starts (they export nothing here)."""

from __future__ import annotations

import os
import re
from pathlib import Path

VAR = "PROMETHEUS_MULTIPROC_DIR"
_PID = re.compile(r"_(\d+)\.db$")

directory: Path | None = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prepare(state_dir: Path, database: str) -> Path:
    """Create the directory, remove the files of processes that are gone (a hub that
    crashed left its gauges; its counters would otherwise count forever), and point
    prometheus-client at it."""
    global directory
    directory = state_dir / "metrics" / database
    directory.mkdir(parents=True, exist_ok=True)
    for file in directory.glob("*.db"):
        match = _PID.search(file.name)
        if match and not _alive(int(match.group(1))):
            file.unlink(missing_ok=True)
    os.environ[VAR] = str(directory)
    return directory


def hide_from_children() -> None:
    """This process has opened its files (hub/metrics.py does at import); processes it
    starts (an embedded Ray) must not write theirs here."""
    os.environ.pop(VAR, None)
