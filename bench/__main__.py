"""`make bench` (`python -m bench [--out FILE] [NAME ...]`): run the main() of every bench/bench_*.py module (or
the named ones) and write their sections into bench/RESULTS.md (or FILE: a short trial run, e.g. with
DKE_GEO_BENCH_SIZES=10000, then leaves the recorded results alone).

Each main() prints its figures as it measures them and returns them as a Markdown section. A run of
some benchmarks replaces only their sections in the results file and keeps the others'.
"""
from __future__ import annotations

import importlib
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import common

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
_SECTION = re.compile(r"<!-- (bench_\w+) -->\n(.*?)<!-- /\1 -->\n", re.S)


def _sections(text: str) -> dict[str, str]:
    return {name: body for name, body in _SECTION.findall(text)}


def main(argv: list[str]) -> None:
    results = RESULTS
    if argv[:1] == ["--out"]:
        if len(argv) < 2:
            sys.exit("usage: python -m bench [--out FILE] [NAME ...]")
        results, argv = Path(argv[1]), argv[2:]
    names = argv or sorted(p.stem for p in HERE.glob("bench_*.py"))
    sections = _sections(results.read_text()) if results.exists() else {}
    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"bench.{name}")
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        sections[name] = f"_Measured {when} on {common.machine()}._\n\n{module.main().strip()}\n"
    body = "".join(f"<!-- {name} -->\n{text}<!-- /{name} -->\n\n" for name, text in sorted(sections.items()))
    results.write_text("# Benchmark results\n\nWritten by `make bench` (`python -m bench`); each section by the "
                       "module of the same name in bench/. Figures are medians of repeated runs on the machine "
                       "named, with any baseline measured in the same run.\n\n" + body)
    print(f"wrote {results}")


if __name__ == "__main__":
    main(sys.argv[1:])
