"""RESULTS.md is made of sections, one per benchmark script; each script replaces only its own."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
TITLE = "# Benchmark results\n\nWritten by the scripts named in each section; read ratios, not absolutes.\n"


def machine_line(command: str) -> str:
    """When, where and how a section was measured."""
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores (load average at the end {load}), Python {platform.python_version()}, "
        f"by `{command}`."
    )


def replace_section(name: str, text: str) -> None:
    """Put ``text`` between this section's markers, keeping every other section as it is."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{text.rstrip()}\n{end}\n"
    current = RESULTS.read_text() if RESULTS.exists() else TITLE
    if "<!-- begin " not in current:  # an older layout: start again
        current = TITLE
    if begin in current:
        pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
        current = pattern.sub(lambda _: block, current)
    else:
        current = current.rstrip() + "\n\n" + block
    RESULTS.write_text(current)
