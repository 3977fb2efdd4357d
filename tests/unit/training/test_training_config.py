"""TrainConfig, the CLI that builds it, the run's gate policy, and what --resume picks up."""

import subprocess
import sys
from datetime import UTC, datetime

import pytest
import torch

from app.cli import build_parser
from fieldstream.modality import MODALITIES, NAMES
from training.checkpoint import Checkpoint, save_checkpoint
from training.cli.train import build_config
from training.config import DEFAULTS, MODEL_NAMES, TASK_MODELS, TASKS, TrainConfig
from training.data.snapshot import SnapshotQuery
from training.ddp import _resume_state
from training.gate import AUDIO_GATE, VISION_GATE
from training.tasks import gate_policy


def test_config_round_trips_through_json_and_names_its_checkpoint():
    config = TrainConfig(
        "vision",
        class_names=("a", "b"),
        input_size=(128, 96),
        experiment="exp",
        model_name="m",
        gate_floor=0.1,
    )
    assert TrainConfig.from_json(config.to_json()) == config
    assert config.checkpoint_path.parts[-2:] == ("exp", "m-last.pt")
    assert TrainConfig("audio").registered_model == "audio-classifier"
    assert TrainConfig("vision").checkpoint_path.name == "vision-detector-last.pt"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"source": "dataset"}, "dataset folder"),
        ({"source": "snapshot"}, "snapshot manifest"),
        ({"source": "kafka"}, "source must be"),
        ({"heldout_fraction": 1.0}, "heldout_fraction"),
        ({"gate_margin": -0.1}, "gate_margin"),
        ({"nproc": 4, "global_batch": 2}, "global_batch"),
    ],
)
def test_config_refuses_inconsistent_runs(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig("audio", **changes)


def test_gate_policy_defaults_to_production_and_takes_the_run_overrides():
    assert gate_policy(VISION_GATE, TrainConfig("vision")) == VISION_GATE
    policy = gate_policy(AUDIO_GATE, TrainConfig("audio", gate_floor=0.6, gate_margin=0.05))
    assert (policy.metric, policy.floor, policy.margin) == ("macro_roc_auc", 0.6, 0.05)
    assert gate_policy(AUDIO_GATE, TrainConfig("audio", gate_margin=0.0)).floor == AUDIO_GATE.floor


def test_cli_builds_the_config_from_defaults_and_flags(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDSTREAM_DATA_DIR", str(tmp_path))
    parser = build_parser()
    args = parser.parse_args(["train", "audio"])
    values = build_config(args)
    assert {k: values[k] for k in DEFAULTS["audio"]} == DEFAULTS["audio"]
    assert values["gate_floor"] is None and "source" not in values  # the simulators
    flags = "--nproc 2 --time-budget-min 2 --gate-floor 0.3 --gate-margin 0.1 --model-name scratch"
    args = parser.parse_args(
        ["train", "vision", *flags.split(), "--experiment", "e", "--epochs", "3", "--resume"]
    )
    config = TrainConfig(**build_config(args))
    assert (config.nproc, config.time_budget_s, config.epochs, config.resume) == (2, 120.0, 3, True)
    assert (config.gate_floor, config.gate_margin, config.model_name) == (0.3, 0.1, "scratch")
    assert config.checkpoint_path == tmp_path.resolve() / "checkpoints" / "e" / "scratch-last.pt"
    snap = parser.parse_args(
        ["train", "snapshot", "audio", "--out", "x.json", "--device", "a", "--device", "b"]
    )
    assert (snap.kind, snap.device, snap.as_of) == ("audio", ["a", "b"], "now")
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "audio", "--snapshot", "a", "--dataset", "b"])


def _parts():
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, optimizer, torch.optim.lr_scheduler.StepLR(optimizer, 1)


def test_resume_loads_an_unfinished_run_and_starts_over_after_a_finished_one(tmp_path):
    path = tmp_path / "run-last.pt"
    config = TrainConfig("audio", resume=True)
    assert _resume_state(config, path, *_parts()) == Checkpoint()  # nothing to resume
    model, optimizer, scheduler = _parts()
    with torch.no_grad():
        model.weight.fill_(3.0)
    state = Checkpoint(epoch=2, elapsed_s=5.0, mlflow_run_id="abc", history=[{"epoch": 1}, {"epoch": 2}])
    save_checkpoint(path, state, model, optimizer, scheduler)
    fresh = _parts()
    resumed = _resume_state(config, path, *fresh)
    assert (resumed.epoch, resumed.mlflow_run_id, len(resumed.history)) == (2, "abc", 2)
    assert torch.equal(fresh[0].weight, model.weight)
    state.finished = True
    save_checkpoint(path, state, model, optimizer, scheduler)
    assert _resume_state(config, path, *_parts()).mlflow_run_id is None


def test_tasks_are_the_modalities_and_the_cli_shows_the_configs_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDSTREAM_DATA_DIR", str(tmp_path))
    assert TASKS == NAMES and set(DEFAULTS) == set(TASK_MODELS) == set(MODALITIES)
    assert {t: MODEL_NAMES[t] for t in TASKS} == {m.name: m.model_name for m in MODALITIES.values()}
    args = build_parser().parse_args(["train", "vision"])
    assert (args.seed, args.patience, args.heldout_fraction, args.int8_max_drop) == (
        TrainConfig.train_seed,
        TrainConfig.patience,
        TrainConfig.heldout_fraction,
        TrainConfig.int8_max_drop,
    )
    snap = build_parser().parse_args(["train", "snapshot", "vision", "--out", "x.json"])
    query = SnapshotQuery("vision", datetime.now(UTC))
    assert (snap.split_seed, snap.heldout_fraction, snap.bucket_s) == (
        query.seed,
        query.heldout_fraction,
        query.bucket_s,
    )


def test_the_train_commands_import_no_torch_numpy_or_mlflow():
    code = "import sys, training.cli; print(sorted({'torch', 'numpy', 'mlflow'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
