"""The evaluation gate: a candidate is promoted only when it clears an absolute floor and is no
worse than the champion minus a small margin, both scored on the same held-out data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GatePolicy:
    metric: str  # e.g. "map50" (vision) or "macro_roc_auc" (audio); higher is better
    floor: float  # the absolute bar every champion must clear
    margin: float = 0.005  # tolerated drop below the champion (noise of a finite held-out set)


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    reason: str
    metric: str
    candidate: float
    champion: float | None


VISION_GATE = GatePolicy(metric="map50", floor=0.85, margin=0.01)
AUDIO_GATE = GatePolicy(metric="macro_roc_auc", floor=0.95, margin=0.005)


def decide(
    candidate: dict[str, float], champion: dict[str, float] | None, policy: GatePolicy
) -> GateDecision:
    """Apply ``policy`` to the candidate's and the champion's metrics on the same held-out set."""
    if policy.metric not in candidate:
        raise KeyError(f"candidate metrics lack {policy.metric!r}: {sorted(candidate)}")
    score = float(candidate[policy.metric])
    best = None if champion is None else float(champion[policy.metric])
    name = policy.metric
    if score < policy.floor:
        return GateDecision(
            False, f"candidate {name} {score:.4f} is below the floor {policy.floor:.4f}", name, score, best
        )
    if best is None:
        return GateDecision(
            True,
            f"no champion yet; candidate {name} {score:.4f} clears the floor {policy.floor:.4f}",
            name,
            score,
            None,
        )
    bar = best - policy.margin
    if score < bar:
        return GateDecision(
            False,
            f"candidate {name} {score:.4f} is below champion {best:.4f} minus margin {policy.margin:.4f}",
            name,
            score,
            best,
        )
    return GateDecision(
        True,
        f"candidate {name} {score:.4f} >= champion {best:.4f} minus margin {policy.margin:.4f}"
        f" and >= floor {policy.floor:.4f}",
        name,
        score,
        best,
    )
