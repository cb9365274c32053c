"""The cores' clock when the package was first imported (Linux ``/proc/stat``).

:mod:`calibrate.report.worker` asks whether a core is free by the other cores' idle time
since then: a command imports its libraries on one core for a second or two first, and the
idle share of that window tells more than the one-minute load average, which trails. Read
here, at the package's first import, so the window holds the whole import (read in the
worker's module, imported last, it held a few milliseconds and the trailing load average
decided: after a busy minute the report ran in one process, 15 s against 9–10 s).
"""

from __future__ import annotations

import time


def cpu_times() -> tuple[float, float] | None:
    """(idle, total) clock ticks of all cores since boot (Linux ``/proc/stat``), or None."""
    try:
        with open("/proc/stat", "rb") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != b"cpu" or len(fields) < 9:
        return None
    ticks = [float(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[3] + ticks[4], sum(ticks)


#: (monotonic seconds, :func:`cpu_times`) at the package's first import
AT_IMPORT = (time.monotonic(), cpu_times())
