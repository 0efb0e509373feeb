"""The results: tables on the terminal and bench/out/results.json."""

from __future__ import annotations

import json
from pathlib import Path


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _bytes(value) -> str:
    if value is None:
        return "-"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.2f}MB"
    if value >= 10_000:
        return f"{value / 1000:.0f}KB"
    return f"{value}B"


def _met(value) -> str:
    return {True: "yes", False: "NO", None: "n/a"}[value]


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [
        max(len(h), *(len(r[k]) for r in rows)) if rows else len(h) for k, h in enumerate(headers)
    ]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def latency_table(rows: list[dict]) -> str:
    headers = [
        "scenario",
        "p50 ms",
        "p95 ms",
        "n",
        "bytes",
        "SQL p50",
        "SQL p95",
        "ratio",
        "target",
        "met?",
    ]
    body = []
    notes = []
    for r in rows:
        if r["status"] == "ok":
            cells = [
                r["scenario"],
                _num(r.get("p50")),
                _num(r.get("p95")),
                _num(r.get("n")),
                _bytes(r.get("bytes")),
                _num(r.get("sql_p50"), 2),
                _num(r.get("sql_p95"), 2),
                _num(r.get("ratio"), 2),
                r["target"],
                _met(r.get("met")),
            ]
        else:
            cells = [
                r["scenario"],
                r["status"],
                "",
                "",
                "",
                _num(r.get("sql_p50"), 2),
                _num(r.get("sql_p95"), 2),
                "",
                r["target"],
                _met(r.get("met")),
            ]
        body.append(cells)
        if r.get("note"):
            notes.append(f"  {r['scenario']}: {r['note']}")
    text = table(headers, body)
    return text + ("\nnotes:\n" + "\n".join(notes) if notes else "")


def throughput_table(rows: list[dict]) -> str:
    headers = [
        "load group",
        "app c=1",
        "app c=8",
        "p99@c=8 ms",
        "SQL c=1",
        "SQL c=8",
        "errors",
        "note",
    ]
    body = [
        [
            r["group"],
            _num(r.get("app_c1")),
            _num(r.get("app_c8")),
            _num(r.get("app_c8_p99")),
            _num(r.get("sql_c1")),
            _num(r.get("sql_c8")),
            str(r.get("errors", 0)),
            r.get("note", "")[:70],
        ]
        for r in rows
    ]
    return "requests per second (wrk; SQL alone with pgbench)\n" + table(headers, body)


def tipg_table(result: dict) -> str:
    if result.get("status") != "ok":
        return f"TiPg side by side: {result.get('status')}: {result.get('note', '')}"
    headers = [
        "c=8, req/s",
        "fieldwatch",
        "TiPg",
        "ratio",
        "SQL alone",
        "fw bytes",
        "TiPg bytes",
        "met (>=2x)?",
    ]
    body = [
        [
            c["name"],
            _num(c.get("fieldwatch"))
            if c.get("fieldwatch") is not None
            else c.get("fw_status", "-"),
            _num(c.get("tipg")),
            _num(c.get("ratio"), 2),
            _num(c.get("sql")),
            _bytes(c.get("fw_bytes")),
            _bytes(c.get("tipg_bytes")),
            _met(c.get("met")),
        ]
        for c in result["cases"]
    ]
    notes = [f"  {c['name']}: {c['note']}" for c in result["cases"] if c.get("note")]
    head = f"side by side with TiPg {result.get('version', '')} (median of {result.get('rounds')} rounds)"
    return head + "\n" + table(headers, body) + ("\nnotes:\n" + "\n".join(notes) if notes else "")


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def markdown(result: dict) -> str:
    """The latency, throughput and TiPg tables as Markdown (for docs/performance.md)."""

    def cell(v, digits=1):
        return _num(v, digits) if v is not None else "–"

    lines = [
        "| scenario | p50 ms | p95 ms | n | bytes | SQL p50 | SQL p95 | ratio | target | met? |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in result.get("scenarios", []):
        ok = r["status"] == "ok"
        lines.append(
            "| "
            + " | ".join(
                [
                    r["scenario"],
                    cell(r.get("p50")) if ok else r["status"],
                    cell(r.get("p95")) if ok else "",
                    cell(r.get("n")) if ok else "",
                    _bytes(r.get("bytes")) if ok and r.get("bytes") else "",
                    cell(r.get("sql_p50"), 2),
                    cell(r.get("sql_p95"), 2),
                    cell(r.get("ratio"), 2) if ok else "",
                    r["target"],
                    _met(r.get("met")),
                ]
            )
            + " |"
        )
    lines += [
        "",
        "| load group (req/s) | app c=1 | app c=8 | app p99 @c=8 ms | SQL c=1 | SQL c=8 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in result.get("throughput", []):
        lines.append(
            f"| {r['group']} | {cell(r.get('app_c1'))} | {cell(r.get('app_c8'))} | "
            f"{cell(r.get('app_c8_p99'))} | {cell(r.get('sql_c1'))} | {cell(r.get('sql_c8'))} |"
        )
    tipg = result.get("tipg", {})
    if tipg.get("status") == "ok":
        lines += [
            "",
            f"| TiPg {tipg.get('version')}, c=8 (req/s) | fieldwatch | TiPg | ratio | SQL alone"
            " | fw bytes | TiPg bytes | ≥ 2×? |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for c in tipg["cases"]:
            lines.append(
                f"| {c['name']} | {cell(c.get('fieldwatch'))} | {cell(c.get('tipg'))} | "
                f"{cell(c.get('ratio'), 2)} | {cell(c.get('sql'))} | {_bytes(c.get('fw_bytes'))} | "
                f"{_bytes(c.get('tipg_bytes'))} | {_met(c.get('met'))} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":  # python -m bench.report bench/out/results.json
    import sys

    print(markdown(json.loads(Path(sys.argv[1]).read_text())))
