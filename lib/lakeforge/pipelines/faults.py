"""Named points in a batch run where a test can make it fail, or stop it to be killed.

LAKEFORGE_FAULT=<point> raises InjectedFault there; LAKEFORGE_FAULT=<point>=pause prints
`PAUSED_AT <point>` to stderr and waits, so a test can SIGKILL the process at exactly that point.
Points are `<source>:landed` (bronze written), `<source>:refined` (silver written, not yet
committed) and `<source>:committed`; file sources also have `<source>#<batch>:landed|refined`.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

FAULT_ENV = "LAKEFORGE_FAULT"
PAUSED_MARKER = "PAUSED_AT"


class InjectedFault(RuntimeError):
    """A failure asked for by LAKEFORGE_FAULT (tests only)."""


@dataclass(frozen=True)
class FaultPoint:
    point: str | None = None
    pause: bool = False

    @classmethod
    def from_env(cls) -> FaultPoint:
        point, _, action = os.environ.get(FAULT_ENV, "").partition("=")
        if action not in ("", "pause"):
            raise ValueError(f"{FAULT_ENV}={os.environ[FAULT_ENV]!r}: expected <point> or <point>=pause")
        return cls(point=point or None, pause=action == "pause")

    def reach(self, point: str) -> None:
        if point != self.point:
            return
        if self.pause:
            print(f"{PAUSED_MARKER} {point}", file=sys.stderr, flush=True)
            while True:  # until the test kills the process
                time.sleep(60)
        raise InjectedFault(f"failure injected at {point} ({FAULT_ENV})")
