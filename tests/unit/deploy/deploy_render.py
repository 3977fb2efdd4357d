"""Render the kustomize overlays and read the repository's deployment files (no cluster, no network).

kustomize comes from ``.tools/bin`` (``make deploy-tools`` / ``scripts/install-k8s-tools.sh``, built with
``go install`` from the Go module proxy); ``kubectl kustomize`` is the fallback where kubectl exists.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "k8s"
TOOLS = ROOT / ".tools"
OVERLAYS = ("dev", "prod")
#: libyaml's loader where PyYAML has it: the CRDs are megabytes of YAML.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
INSTALL_HINT = (
    "run `make deploy-tools` (scripts/install-k8s-tools.sh) to install the offline deploy checks' tools"
)


class ToolMissingError(RuntimeError):
    """A tool or schema that scripts/install-k8s-tools.sh installs is not there."""


def tool_file(relative: str) -> Path:
    path = TOOLS / relative
    if not path.exists():
        raise ToolMissingError(f"{path} is missing: {INSTALL_HINT}")
    return path


def kustomize_command(directory: Path) -> list[str]:
    own = TOOLS / "bin" / "kustomize"
    if own.exists():
        return [str(own), "build", str(directory)]
    kubectl = shutil.which("kubectl")
    if kubectl:
        return [kubectl, "kustomize", str(directory)]
    raise ToolMissingError(f"neither {own} nor kubectl: {INSTALL_HINT}")


def build(directory: Path) -> list[dict]:
    """``kustomize build DIR`` as a list of objects; raises CalledProcessError on a broken kustomization."""
    out = subprocess.run(kustomize_command(directory), capture_output=True, text=True, check=True, timeout=60)
    return [doc for doc in yaml.load_all(out.stdout, Loader=FAST_LOADER) if doc]


@functools.cache
def rendered(target: str) -> tuple[dict, ...]:
    """The rendered objects of ``base`` or an overlay name, cached for the test session."""
    directory = K8S / "base" if target == "base" else K8S / "overlays" / target
    return tuple(build(directory))


def find(objects: tuple[dict, ...] | list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]


def one(objects: tuple[dict, ...] | list[dict], kind: str, name: str) -> dict:
    found = find(objects, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())
