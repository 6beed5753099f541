"""Which processes run now, read from /proc (Linux): for tests of child processes."""

from __future__ import annotations

import os
from pathlib import Path


def children_of(pid: int | None) -> list[int]:
    """Processes whose parent is ``pid``."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found
