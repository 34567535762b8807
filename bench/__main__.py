"""`make bench`: every benchmark section, one Markdown report in bench/results/."""

from __future__ import annotations

import datetime
import platform
import sys

from bench.harness import RESULTS, configure, cpu_reference


def main(names: list[str]) -> None:
    configure()
    from bench import (
        actions,
        counters,
        downloads,
        edit,
        find,
        health,
        jobs,
        live,
        load,
        objectstore,
        table,
    )

    sections = {
        "table": table.run,
        "find": find.run,
        "actions": actions.run,
        "edit": edit.run,
        "jobs": jobs.run,
        "counters": counters.run,
        "downloads": downloads.run,
        "objectstore": objectstore.run,
        "health": health.run,
        "live": live.run,
        "load": load.run,
    }
    chosen = names or list(sections)
    parts = []
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in chosen:
        print(f"bench: {name}", flush=True)
        section = f"{sections[name]()}\n\n- {cpu_reference()}"
        (RESULTS / f"{name}.md").write_text(section + "\n")
        parts.append(section)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"# PMD benchmarks\n\n{now}; {platform.machine()}, {platform.python_version()}, "
        f"{_cpu_count()} cores.\n"
    )
    report = header + "\n\n".join(parts) + "\n"
    if not names:
        (RESULTS / "latest.md").write_text(report)
    print(report)


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main(sys.argv[1:])
