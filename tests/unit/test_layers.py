"""The house's rules, checked on the code: the layer contracts (import-linter, configured in
pyproject.toml and explained in ARCHITECTURE.md) hold, an upward import breaks them, no module
outside tests and benchmarks grows past 400 lines, and `fieldstream --help` imports no heavy part."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "app",
    "inference_workers",
    "stream_jobs",
    "training",
    "producers",
    "model_contract",
    "feature_store",
    "fieldstream",
)
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_MODULE_LINES = 400


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_layer_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def _copy_of_the_code(dst: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, dst / package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dst


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        ("fieldstream/topics.py", "producers.cli", "app > components"),  # the kernel reaching up
        ("model_contract/spec.py", "training.config", "app > components"),  # the contract knowing training
        ("inference_workers/runtime/model.py", "training.tasks", "app > components"),  # sibling components
        ("model_contract/detections.py", "torch", "never imports torch"),
    ],
)
def test_an_arrow_pointing_the_wrong_way_breaks_a_contract(tmp_path, importer, imported, contract):
    tree = _copy_of_the_code(tmp_path)
    module = tree / importer
    module.write_text(module.read_text() + f"\nimport {imported}  # noqa: E402,F401\n")
    result = _lint_imports(tree)
    assert result.returncode != 0
    broken = " ".join(result.stdout.split("Broken contracts", 1)[-1].split())  # (it wraps long lines)
    assert contract in broken
    assert importer.removesuffix(".py").replace("/", ".") in broken


def test_no_module_outside_tests_and_benchmarks_is_over_400_lines():
    too_long = {
        str(path.relative_to(ROOT)): n
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


HEAVY = (
    "torch",
    "mlflow",
    "pyflink",
    "onnxruntime",
    "onnx",
    "kserve",
    "faust",
    "confluent_kafka",
    "psycopg2",
    "redis",
    "numpy",
    "scipy",
    "cv2",
    "PIL",
    "soundfile",
)


def test_the_root_cli_builds_without_importing_the_heavy_parts():
    """`fieldstream --help` and every sub-command's --help build the whole parser: the components'
    command modules are light, their handlers import what they run."""
    probe = (
        "import json, sys; from app.cli import build_parser; build_parser(); "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert loaded & set(HEAVY) == set()
    assert {"producers", "stream_jobs", "inference_workers", "training"} <= loaded  # found by entry points
