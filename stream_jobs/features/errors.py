"""Why a raw record is rejected by the feature job (on top of the contract errors of ``decode_*``)."""

from __future__ import annotations

from fieldstream.contracts import ContractError


class FutureTimestampError(ContractError):
    """``captured_at`` lies further in the future than the job accepts (a device clock is wrong)."""

    def __init__(self, captured_at: int, now_ms: int, limit_s: float) -> None:
        ahead = (captured_at - now_ms) / 3_600_000
        super().__init__(
            f"captured_at {captured_at} is {ahead:.2f} h ahead of the clock (limit {limit_s / 3600:.2f} h)"
        )


class FeatureComputationError(ContractError):
    """The media decoded but the feature functions refused it (e.g. an image of a shape they reject)."""
