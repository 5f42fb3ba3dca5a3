"""Markdown rows for docs/benchmarks.md from result files of run.py.

.venv/bin/python bench/intake/report.py bench/intake/results/intake-*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

NAMES = {"baseline": "(a) baseline", "contact": "(b) contact", "verification": "(c) verification"}


def rows(result: dict[str, Any]) -> list[str]:
    if "verdict" not in result:
        return [f"| {result.get('date', '?')} | | failed: {result.get('error', '?')[:80]} |"]
    verdict = result["verdict"]
    mean = verdict["baseline_rps_mean"]
    out = []
    for run in result["runs"]:
        cpu = run.get("cpu", {})
        ratio = run["rps"] / mean if mean else 0.0
        flags = [] if run["valid"] else ["INVALID"]
        if run.get("noisy"):
            flags.append(f"noisy ({cpu.get('others_share', 0):.0%} others)")
        out.append(
            f"| {result['date'][11:16]} | `{result.get('git', {}).get('head', '?')}` "
            f"| {NAMES[run['target']]} "
            f"| {run['rps']:.0f} | {run['p50_ms']:.1f} | {run['p99_ms']:.1f} | {ratio:.2f} "
            f"| {cpu.get('gunicorn_ms_per_request', 0):.2f} "
            f"| {cpu.get('postgres_ms_per_request', 0):.2f} | {', '.join(flags) or 'ok'} |"
        )
    return out


def unloaded_rows(result: dict[str, Any]) -> list[str]:
    out = []
    for kind, run in result.get("unloaded", {}).items():
        cpu = run.get("cpu", {})
        note = f"noisy ({cpu.get('others_share', 0):.0%} others)" if run.get("noisy") else "ok"
        out.append(
            f"| {result['date'][11:16]} | {NAMES[kind]} | {run['rps']:.0f} | {run['p50_ms']:.1f} "
            f"| {run['p99_ms']:.1f} | {cpu.get('gunicorn_ms_per_request', 0):.2f} | {note} |"
        )
    return out


def main() -> None:
    print(
        "| time (UTC) | commit | run | req/s | p50 ms | p99 ms | ratio to (a) "
        "| gunicorn CPU ms/req | PostgreSQL CPU ms/req | notes |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    results = [json.loads(Path(name).read_text()) for name in sys.argv[1:]]
    for result in results:
        for row in rows(result):
            print(row)
    print()
    print("| time (UTC) | run | req/s | p50 ms | p99 ms | gunicorn CPU ms/req | notes |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    for result in results:
        for row in unloaded_rows(result):
            print(row)


if __name__ == "__main__":
    main()
