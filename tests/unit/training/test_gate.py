import pytest

from training.gate import AUDIO_GATE, VISION_GATE, GatePolicy, decide

POLICY = GatePolicy(metric="map50", floor=0.85, margin=0.01)


def test_first_candidate_above_the_floor_passes():
    d = decide({"map50": 0.90}, None, POLICY)
    assert d.passed and d.champion is None
    assert "no champion yet" in d.reason


def test_candidate_below_the_floor_is_refused_even_without_champion():
    d = decide({"map50": 0.84}, None, POLICY)
    assert not d.passed
    assert d.reason == "candidate map50 0.8400 is below the floor 0.8500"


def test_better_candidate_passes():
    d = decide({"map50": 0.93}, {"map50": 0.91}, POLICY)
    assert d.passed and d.candidate == 0.93 and d.champion == 0.91


def test_slightly_worse_candidate_within_margin_passes():
    assert decide({"map50": 0.905}, {"map50": 0.91}, POLICY).passed


def test_degraded_candidate_is_refused_with_reason():
    d = decide({"map50": 0.88}, {"map50": 0.91}, POLICY)
    assert not d.passed
    assert d.reason == "candidate map50 0.8800 is below champion 0.9100 minus margin 0.0100"


def test_floor_applies_even_when_champion_is_worse():
    assert not decide({"map50": 0.80}, {"map50": 0.70}, POLICY).passed


def test_missing_metric_is_an_error():
    with pytest.raises(KeyError, match="map50"):
        decide({"map": 0.9}, None, POLICY)


def test_product_gates_match_the_quality_bar():
    assert (VISION_GATE.metric, VISION_GATE.floor) == ("map50", 0.85)
    assert (AUDIO_GATE.metric, AUDIO_GATE.floor) == ("macro_roc_auc", 0.95)
