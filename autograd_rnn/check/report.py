"""Per-input gradient comparison results, printable as a table and as JSON."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field


@dataclass
class GradientComparison:
    """How one input's analytic gradient compares with the numerical one."""

    name: str
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...] | None
    passed: bool
    entries_checked: int
    analytic_at_worst: float = 0.0
    numeric_at_worst: float = 0.0


@dataclass
class GradcheckReport:
    """Result of a gradient check: truthy when every input passed.

    ``str(report)`` is a table; ``report.to_json()`` is for autograders.
    """

    comparisons: list[GradientComparison]
    eps: float
    atol: float
    rtol: float
    warnings: list[str] = field(default_factory=list)
    title: str = "gradient check"

    def __bool__(self) -> bool:
        return all(c.passed for c in self.comparisons)

    @property
    def passed(self) -> bool:
        return bool(self)

    @property
    def failures(self) -> list[GradientComparison]:
        return [c for c in self.comparisons if not c.passed]

    def __getitem__(self, name: str) -> GradientComparison:
        for c in self.comparisons:
            if c.name == name:
                return c
        raise KeyError(f"no input named {name!r}; inputs: {[c.name for c in self.comparisons]}")

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "passed": self.passed,
            "eps": self.eps,
            "atol": self.atol,
            "rtol": self.rtol,
            "warnings": list(self.warnings),
            "inputs": [
                {**asdict(c), "shape": list(c.shape),
                 "worst_index": None if c.worst_index is None else list(c.worst_index)}
                for c in self.comparisons
            ],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (parseable outside Python): NaN/Inf errors become null."""
        return json.dumps(finite_or_null(self.to_dict()), indent=indent, allow_nan=False)

    def __str__(self) -> str:
        rows = [
            ("input", "shape", "max abs err", "max rel err", "worst index", "checked", "result")
        ]
        for c in self.comparisons:
            rows.append((
                c.name,
                "x".join(map(str, c.shape)) or "scalar",
                f"{c.max_abs_error:.2e}",
                f"{c.max_rel_error:.2e}",
                "-" if c.worst_index is None else str(tuple(int(i) for i in c.worst_index)),
                str(c.entries_checked),
                "ok" if c.passed else "FAIL",
            ))
        lines = [f"{self.title}: {'PASSED' if self else 'FAILED'} "
                 f"(eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g})", *text_table(rows)]
        for c in self.failures:
            if c.worst_index is not None:
                lines.append(f"{c.name}{list(c.worst_index)}: analytic {c.analytic_at_worst:.6g} "
                             f"vs numeric {c.numeric_at_worst:.6g}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    __repr__ = __str__


def text_table(rows: list) -> list[str]:
    """Lines of a left-aligned table: the first row is the header, underlined with dashes."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def finite_or_null(value):
    """Replace NaN/Inf floats (a NaN gradient) by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite_or_null(v) for v in value]
    return value
