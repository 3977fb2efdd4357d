"""docker-compose.yml: valid by the Compose Specification's schema, our services run commands that
exist, everything waits for what it needs (a FieldStream service is healthy once ready), and no
secret is committed."""

from __future__ import annotations

import subprocess

import pytest
from deploy_cli import CLI_IMAGES, check, cli_args, image_name
from deploy_compose import compose_errors, load_compose
from deploy_health import compose_probe_paths
from deploy_render import ROOT
from deploy_secrets import REQUIRED_PASSWORD, compose_secret_problems

COMPOSE = load_compose()
SERVICES = COMPOSE["services"]
OURS = {name: s for name, s in SERVICES.items() if image_name(s["image"]) in CLI_IMAGES}


def test_compose_file_matches_the_compose_spec():
    assert compose_errors(COMPOSE) == []


@pytest.mark.parametrize(
    ("broken", "fragment"),
    [
        (
            "services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: service_happy}\n",
            "service_happy",
        ),
        ("services:\n  a:\n    image: x\n    ports: {web: 80}\n", "ports"),
        ("servics:\n  a:\n    image: x\n", "servics"),
        ("services:\n  a:\n    image: x\n    comand: [worker, vision]\n", "comand"),
    ],
)
def test_a_broken_compose_file_is_rejected(broken, fragment):
    errors = compose_errors(load_compose(broken))
    assert errors and any(fragment in e for e in errors), errors


def test_the_whole_system_is_there():
    assert {
        "kafka",
        "topic-init",
        "timescaledb",
        "redis",
        "mlflow",
        "flink-jobmanager",
        "flink-taskmanager",
        "features-job",
        "history-sink",
        "worker-vision",
        "worker-audio",
        "agents",
        "serve",
        "produce-frames",
        "produce-audio",
    } <= set(SERVICES)


@pytest.mark.parametrize("name", sorted(OURS))
def test_our_services_run_fieldstream_commands(name):
    service = OURS[name]
    assert "entrypoint" not in service, "the image's entrypoint (fieldstream) is the contract"
    assert service["build"]["dockerfile"] == "docker/Dockerfile"
    assert check(cli_args(None, service["command"])) in ("ok", "pending")


def test_simulators_are_a_profile():
    producers = {n for n, s in OURS.items() if s["command"][0] == "produce"}
    assert producers == {"produce-frames", "produce-audio"}
    for name in producers:
        assert SERVICES[name]["profiles"] == ["simulators"]
    assert all("profiles" not in s for n, s in SERVICES.items() if n not in producers)


def test_long_running_services_have_healthchecks_and_wait_for_health():
    for name, service in SERVICES.items():
        if service.get("restart") == "unless-stopped" and "profiles" not in service:
            assert "healthcheck" in service, name
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in SERVICES, (name, dependency)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], (name, dependency)
    for name in OURS:
        if "profiles" not in SERVICES[name]:
            deps = SERVICES[name]["depends_on"]
            assert deps["topic-init"]["condition"] == "service_completed_successfully"
            assert deps["kafka" if "kafka" in deps else "timescaledb"]["condition"] == "service_healthy"


def test_our_healthchecks_mean_ready():
    """depends_on: service_healthy waits for a service that takes work: /readyz, never /healthz."""
    checked = set()
    for name, service in OURS.items():
        paths = compose_probe_paths(service.get("healthcheck", {}))
        if paths:
            assert paths == ["/readyz"], name
            checked.add(name)
    assert {"worker-vision", "worker-audio", "agents", "history-sink"} <= checked
    assert compose_probe_paths(SERVICES["serve"]["healthcheck"]) == []  # KServe: its own /v2/health


def test_a_liveness_healthcheck_is_caught():
    live = {"test": ["CMD", "python", "-c", "urlopen('http://127.0.0.1:9100/healthz', timeout=3)"]}
    assert compose_probe_paths(live) == ["/healthz"]
    assert compose_probe_paths({"test": "curl -f http://localhost:9100/readyz?x=1"}) == ["/readyz"]


def test_topic_init_runs_the_generated_script():
    init = SERVICES["topic-init"]
    mount = init["volumes"][0].split(":")
    assert (ROOT / mount[0]).resolve() == ROOT / "docker" / "kafka" / "create-topics.sh"
    assert init["entrypoint"][-1] == mount[1]


def test_no_secret_is_committed():
    assert compose_secret_problems((ROOT / "docker-compose.yml").read_text()) == []
    assert SERVICES["timescaledb"]["environment"]["POSTGRES_PASSWORD"].startswith(REQUIRED_PASSWORD)
    example = dict(
        line.split("=", 1) for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line
    )
    assert example["POSTGRES_PASSWORD"] == ""
    tracked = subprocess.run(
        ["git", "ls-files", "--", ".env"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    assert tracked.strip() == "", ".env is committed"


def test_a_committed_password_is_caught():
    leaked = (
        "    environment:\n      POSTGRES_PASSWORD: hunter2\n"
        "      DSN: postgresql://fieldstream:hunter2@timescaledb:5432/fieldstream\n"
        "      OTHER: ${POSTGRES_PASSWORD:-fieldstream}\n"
    )
    assert len(compose_secret_problems(leaked)) == 3
