"""No secret value in what is committed: Kubernetes pods take secrets by reference only, compose
interpolates a required variable from a git-ignored .env."""

from __future__ import annotations

import re

import yaml
from deploy_pods import containers

SECRET_NAME = "fieldstream-secrets"
SECRET_ENV = re.compile(r"PASSWORD|DSN|SECRET|TOKEN|BACKEND_STORE_URI")
CREDENTIALS_IN_URL = re.compile(r"://([^/\s:@]+):([^@\s/]*)@")
REQUIRED_PASSWORD = "${POSTGRES_PASSWORD:?"


def k8s_secret_problems(objects: list[dict] | tuple[dict, ...], secret_keys: set[str]) -> list[str]:
    problems = [f"Secret/{o['metadata']['name']} is rendered" for o in objects if o["kind"] == "Secret"]
    for _, password in CREDENTIALS_IN_URL.findall(yaml.safe_dump_all(list(objects))):
        if not password.startswith(("<", "$")):
            problems.append("a URL with a password in it")
    for obj in objects:
        for container in containers(obj):
            for env in container.get("env", []):
                where = f"{obj['metadata']['name']}: {env['name']}"
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if SECRET_ENV.search(env["name"]) and not ref:
                    problems.append(f"{where} is not from a secretKeyRef")
                if ref and (ref["name"] != SECRET_NAME or ref["key"] not in secret_keys):
                    problems.append(f"{where} names {ref['name']}/{ref['key']}, not a documented key")
    return problems


def compose_secret_problems(compose_text: str) -> list[str]:
    problems = []
    for user, password in CREDENTIALS_IN_URL.findall(compose_text):
        if not password.startswith(REQUIRED_PASSWORD):
            problems.append(f"a literal password for {user} in a URL")
    for use in re.findall(r"\$\{POSTGRES_PASSWORD[^}]*\}", compose_text):
        if not use.startswith(REQUIRED_PASSWORD):
            problems.append(f"{use}: a default password")
    for key, value in re.findall(r"^\s*(\w*PASSWORD\w*):\s*(.+)$", compose_text, re.MULTILINE):
        if not value.strip().strip("\"'").startswith(REQUIRED_PASSWORD):
            problems.append(f"{key} is set to a literal")
    return problems
