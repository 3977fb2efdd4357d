"""The images: one for the Python services (CLI entrypoint), a CUDA variant, and the Flink image
that runs the PyFlink job; what they copy exists, and the build context leaves local state out."""

from __future__ import annotations

import re
import tomllib

import pytest
from deploy_dockerfile import APP_RULES, app_image_problems, final_stage, instructions
from deploy_render import ROOT, find, rendered

DOCKER = ROOT / "docker"


def _text(name: str) -> str:
    return (DOCKER / name).read_text()


def _args(name: str) -> dict[str, str]:
    return dict(a.split("=", 1) for w, a in instructions(_text(name)) if w == "ARG" and "=" in a)


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu"])
def test_app_images_run_the_cli_as_a_user(name):
    assert app_image_problems(_text(name)) == []


def test_a_broken_app_image_is_rejected():
    broken = 'FROM python:3.11-slim\nUSER root\nRUN pip install requests\nENTRYPOINT ["python"]\n'
    assert app_image_problems(broken) == list(APP_RULES)


def test_the_cpu_image_is_python_311_slim_with_a_jre():
    assert _args("Dockerfile")["PYTHON_IMAGE"].startswith("python:3.11-slim")
    assert any(w == "RUN" and "jre" in a for w, a in final_stage(_text("Dockerfile")))


def test_the_gpu_image_is_cuda_with_the_gpu_extra():
    assert _args("Dockerfile.gpu")["CUDA_IMAGE"].startswith("nvidia/cuda:")
    assert "-runtime-" in _args("Dockerfile.gpu")["CUDA_IMAGE"]
    assert '".[gpu]"' in _text("Dockerfile.gpu")


def test_the_flink_image_matches_pyflink_and_the_flink_deployment():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pyflink,) = [d for d in deps if d.startswith("apache-flink==")]
    version = pyflink.split("==")[1]
    assert _args("Dockerfile.flink")["FLINK_IMAGE"].startswith(f"flink:{version}-")
    for target in ("dev", "prod"):
        (flink,) = find(rendered(target), "FlinkDeployment")
        assert flink["spec"]["job"]["jarURI"].endswith(f"/flink-python-{version}.jar")
        assert flink["spec"]["flinkVersion"] == "v" + "_".join(version.split(".")[:2])


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu", "Dockerfile.flink"])
def test_what_the_images_copy_exists(name):
    for word, args in instructions(_text(name)):
        if word == "COPY" and "--from" not in args:
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"{name}: COPY {source}"


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu", "Dockerfile.flink"])
def test_images_copy_every_package_the_project_installs(name):
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {pattern.rstrip("*") for pattern in include["include"]}
    assert {"fieldstream", "model_contract", "app"} <= packages
    copied = {
        args.split()[0].rstrip("/")
        for word, args in instructions(_text(name))
        if word == "COPY" and "--from" not in args
    }
    assert packages <= copied, f"{name} does not COPY {sorted(packages - copied)}"


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.gpu", "Dockerfile.flink"])
def test_images_ship_the_topic_and_schema_declarations(name):
    text = _text(name)
    assert "kafka/topics.yaml" in text and "kafka/schemas" in text


def test_the_build_context_leaves_local_state_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".tools", ".env", ".fieldstream", "kafka/lib"} <= ignored
    pinned = re.compile(r"^[\w./-]+:[\w.-]+$")
    for name in ("Dockerfile", "Dockerfile.gpu", "Dockerfile.flink"):
        for key, value in _args(name).items():
            if key.endswith("_IMAGE"):
                assert pinned.match(value) and not value.endswith(":latest"), (name, value)
