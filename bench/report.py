"""Turn ``bench.run`` results into ratios, target verdicts and markdown tables."""
from __future__ import annotations

# issue 7's targets: engine / hand-written NumPy time per row, and the other bounds
HANDWRITTEN_TARGET = {"tiny": 1.6, "small": 1.3, "large": 1.3, "long": 1.3}
TORCH_PRIMITIVE_TARGET = 1.0
MEMORY_TARGET = 1.5
EXPORT_TARGET_S = 1.0

COLUMNS = [  # (key in times, header)
    ("handwritten", "hand-written"),
    ("engine", "engine"),
    ("engine_record", "engine, rec on"),
    ("torch_primitive", "torch eager prim"),
    ("torch_fused", "torch fused"),
    ("compiled", "ar.compile"),
]


def median_ms(row: dict, key: str) -> float | None:
    t = row["times"].get(key)
    return None if t is None else t["median_s"] * 1e3


def ratio(row: dict, num: str, den: str, clock: str = "median_s") -> float | None:
    """Ratio of two contenders' medians (CPU time by default, "wall_median_s" for wall)."""
    a, b = row["times"].get(num), row["times"].get(den)
    if a is None or b is None or not b[clock]:
        return None
    return a[clock] / b[clock]


def _verdict(name: str, value, limit: float) -> dict:
    if value is None or isinstance(value, str):
        return {"target": name, "limit": limit, "value": value, "met": None}
    return {"target": name, "limit": limit, "value": round(value, 3), "met": value <= limit}


def evaluate_targets(results: dict) -> list[dict]:
    """One verdict per target and row: {"target", "limit", "value", "met"} (met None: n/a)."""
    verdicts = []
    for row in results["rows"]:
        tag = f"{row['kind']}/{row['row']}"
        limit = HANDWRITTEN_TARGET.get(row["row"])
        if limit is not None:
            verdicts.append(_verdict(f"{tag} engine/hand-written time", ratio(
                row, "engine", "handwritten"), limit))
            verdicts.append(_verdict(f"{tag} engine/torch-eager-primitive time", ratio(
                row, "engine", "torch_primitive"), TORCH_PRIMITIVE_TARGET))
        mem = row["peak_bytes"]
        verdicts.append(_verdict(f"{tag} engine/hand-written peak memory",
                                 mem["engine"] / max(mem["handwritten"], 1), MEMORY_TARGET))
    export = results.get("export", {})
    for key, label in (("dot_s", "DOT export"), ("networkx_s", "networkx export")):
        verdicts.append(_verdict(f"{label} of {export.get('nodes', '?')} nodes (s)",
                                 export.get(key), EXPORT_TARGET_S))
    return verdicts


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}"


def _seconds(value) -> str:
    return value if isinstance(value, str) else f"{_fmt(value, 3)} s"


def _shape(row: dict) -> str:
    s = row["shape"]
    return f"({s['T']}, {s['B']}, {s['D']}, {s['H']}, {s['V']})"


def time_table(results: dict) -> str:
    head = ["model", "row (T,B,D,H,V)"] + [h + " ms" for _, h in COLUMNS] + [
        "engine / hand", "engine / torch prim", "rec on / off", "engine / hand (wall)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in results["rows"]:
        cells = [row["kind"], f"{row['row']} {_shape(row)}"]
        cells += [_fmt(median_ms(row, key)) for key, _ in COLUMNS]
        cells += [_fmt(ratio(row, "engine", "handwritten")),
                  _fmt(ratio(row, "engine", "torch_primitive")),
                  _fmt(ratio(row, "engine_record", "engine")),
                  _fmt(ratio(row, "engine", "handwritten", "wall_median_s"))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memory_table(results: dict) -> str:
    head = ["model", "row", "hand-written MB", "engine MB", "engine / hand",
            "engine rec on MB", "nodes", "graph build us/node"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in results["rows"]:
        mem = row["peak_bytes"]
        cells = [row["kind"], row["row"], _fmt(mem["handwritten"] / 2**20, 1),
                 _fmt(mem["engine"] / 2**20, 1),
                 _fmt(mem["engine"] / max(mem["handwritten"], 1)),
                 _fmt(mem["engine_record"] / 2**20, 1), str(row["graph"]["nodes"]),
                 _fmt(row["graph"]["us_per_node"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets_table(results: dict) -> str:
    lines = ["| target | limit | measured | met |", "|---|---|---|---|"]
    for v in results["targets"]:
        met = "n/a" if v["met"] is None else ("yes" if v["met"] else "**no**")
        lines.append(f"| {v['target']} | {v['limit']} | {_fmt(v['value'], 3)} | {met} |")
    return "\n".join(lines)


def markdown(results: dict) -> str:
    """All tables plus the machine line, as markdown."""
    m = results["machine"]
    export = results.get("export", {})
    notes = [f"- {r['kind']}/{r['row']} {k}: {v}" for r in results["rows"]
             for k, v in r["notes"].items()]
    parts = [
        f"Measured {m['date_utc']} UTC on {m['nproc']} x {m['cpu']}; Python {m['python']}, "
        f"NumPy {m['numpy']} ({m['blas']}, threads: {m['blas_threads']}), "
        f"PyTorch {m['torch']} (threads: {m['torch_threads']}); "
        f"allocator: {results.get('allocator', 'default')}; "
        f"{results.get('protocol', 'one process')}; "
        f"medians of {results['repeats']} interleaved repetitions after a warm-up; "
        f"load average (1 min) {m.get('load_average_1min')} at the start, "
        f"{m.get('load_average_1min_end')} at the end.",
        "", "### CPU time of one step (forward + backward), float64, median ms", "",
        time_table(results),
        "", "### Peak memory of one step (tracemalloc) and graph construction", "",
        memory_table(results), "",
        f"### Export of a {export.get('nodes', '?')}-node graph", "",
        f"- DOT source (`ar.viz.to_dot`): {_seconds(export.get('dot_s'))}",
        f"- networkx (`ar.viz.to_networkx`): {_seconds(export.get('networkx_s'))}",
        "", "### Targets", "", targets_table(results),
    ]
    if notes:
        parts += ["", "Notes:", *notes]
    return "\n".join(parts) + "\n"
