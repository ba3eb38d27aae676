"""The report of ``check_backward``: a ``GradcheckReport`` (the user's backward vs finite
differences of the user's forward, one row per input) plus, when a reference layer was
named, the user's forward outputs vs the reference's and the user's gradients vs the
engine's gradients of the reference."""

from __future__ import annotations

from dataclasses import dataclass, field

from autograd_rnn.check.report import GradcheckReport, GradientComparison


class CheckUsageError(ValueError):
    """The functions under check cannot be checked: bad signature, wrong return structure
    or shapes, unknown layer, or the user's code raised. The message is one line."""


@dataclass
class BackwardCheckReport(GradcheckReport):
    """Truthy when every input passed every comparison. ``failed_inputs`` names them."""

    forward_comparisons: list[GradientComparison] = field(default_factory=list)
    reference_comparisons: list[GradientComparison] = field(default_factory=list)
    layer: str | None = None
    forward_name: str = "forward"
    backward_name: str = "backward"
    seed: int = 0
    hints: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return all(c.passed for c in self._all())

    def _all(self) -> list[GradientComparison]:
        return self.comparisons + self.forward_comparisons + self.reference_comparisons

    @property
    def failures(self) -> list[GradientComparison]:
        return [c for c in self._all() if not c.passed]

    @property
    def failed_inputs(self) -> list[str]:
        """Names of inputs whose gradient failed against finite differences or the engine."""
        names = []
        for c in self.comparisons + self.reference_comparisons:
            if not c.passed and c.name not in names:
                names.append(c.name)
        return names

    def _section(self, comparisons, title) -> GradcheckReport:
        return GradcheckReport(comparisons, self.eps, self.atol, self.rtol, [], title)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["passed"] = self.passed
        d["failed_inputs"] = self.failed_inputs
        d["forward_function"] = self.forward_name
        d["backward_function"] = self.backward_name
        d["seed"] = self.seed
        d["hints"] = list(self.hints)
        d["reference"] = None
        if self.layer is not None:
            d["reference"] = {
                "layer": self.layer,
                "forward": self._section(self.forward_comparisons, "").to_dict()["inputs"],
                "gradients": self._section(self.reference_comparisons, "").to_dict()["inputs"],
            }
        return d

    def __str__(self) -> str:
        head = (f"check_backward {self.backward_name} (forward {self.forward_name}"
                f"{', layer ' + self.layer if self.layer else ''}, seed {self.seed}): "
                f"{'PASSED' if self else 'FAILED'}")
        parts = [head, str(self._section(self.comparisons, "backward vs finite differences"))]
        if self.layer is not None:
            forward = str(self._section(
                self.forward_comparisons, f"forward outputs vs reference {self.layer}"))
            forward = forward.replace("\ninput ", "\noutput", 1).replace(": analytic ", ": yours ")
            parts.append(forward.replace(" vs numeric ", " vs reference "))
            exact = str(self._section(
                self.reference_comparisons, f"backward vs engine gradients of {self.layer}"))
            exact = exact.replace(": analytic ", ": yours ")
            parts.append(exact.replace(" vs numeric ", " vs engine "))
        if self.failed_inputs:
            parts.append(f"wrong gradients: {', '.join(self.failed_inputs)}")
        parts.extend(f"hint: {h}" for h in self.hints)
        parts.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(parts)

    __repr__ = __str__
