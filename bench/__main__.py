"""`python -m bench` (`make bench`): run every bench/bench_*.py (its `main()` prints Markdown and returns it)
and write the figures, with the machine they were measured on, to bench/RESULTS.md.

`python -m bench import` runs only the scripts whose name contains "import" and only prints (RESULTS.md
always holds a whole run).
"""
from __future__ import annotations

import importlib
import os
import platform
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.node()}: {os.cpu_count()} cores, {memory:.0f} GiB, {platform.platform()}, "
            f"Python {platform.python_version()}")


def main(only: list[str]) -> None:
    sys.path.insert(0, str(HERE.parent))
    scripts = sorted(p.stem for p in HERE.glob("bench_*.py") if not only or any(o in p.stem for o in only))
    sections = []
    for name in scripts:
        print(f"== {name}", flush=True)
        sections.append(importlib.import_module(f"bench.{name}").main())
    text = (f"# Benchmark results\n\nMeasured {datetime.now():%Y-%m-%d %H:%M} on {machine()}.\n"
            "Each figure stands beside a baseline measured in the same run.\n\n" + "\n".join(sections))
    if not only:
        (HERE / "RESULTS.md").write_text(text)
        print(f"written to {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main(sys.argv[1:])
