"""The MLflow model registry as FieldStream uses it.

Each model (``vision-detector``, ``audio-classifier``) is an ONNX file registered in MLflow with a
*model card* in the MLmodel metadata (class names, preprocessing config, metrics). The alias
``champion`` names the version the workers and the KServe server run; ``challenger`` the latest
candidate. Promotions are remembered in the registered model's ``champion_history`` tag so a
rollback can return to the previous champion. Every change publishes a ``models.events.v1`` event.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import mlflow.onnx
import onnx
import yaml
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from fieldstream.model_names import AUDIO_MODEL, CHALLENGER, CHAMPION, VISION_MODEL

__all__ = ["AUDIO_MODEL", "CHALLENGER", "CHAMPION", "VISION_MODEL", "ModelRegistry", "RegistryError"]

log = logging.getLogger("fieldstream.registry")

HISTORY_TAG = "champion_history"
INT8_FILE = "model.int8.onnx"  # a version's quantised variant, in its artifacts' extra_files/


class RegistryError(RuntimeError):
    """A registry operation could not be done (unknown model or version, nothing to roll back to)."""


@dataclass(frozen=True)
class ModelVersionInfo:
    name: str
    version: str
    run_id: str | None
    aliases: tuple[str, ...]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class DownloadedModel:
    """A registered model fetched to a local folder: the ONNX file and its model card."""

    name: str
    version: str
    onnx_path: Path
    card: dict[str, Any]
    int8_path: Path | None = None  # the static int8 model, when the version ships one


class ModelRegistry:
    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    # ---- registering -------------------------------------------------------------------------
    def log_and_register(
        self, name: str, onnx_path: Path, card: dict[str, Any], int8_path: Path | None = None
    ) -> ModelVersionInfo:
        """Log the ONNX model to the *active* MLflow run and register a new version of ``name``;
        ``int8_path``, a quantised variant, travels with it (as ``extra_files/model.int8.onnx``)."""
        mlflow.set_tracking_uri(self.tracking_uri)
        if mlflow.active_run() is None:
            raise RegistryError("log_and_register needs an active MLflow run")
        with tempfile.TemporaryDirectory(prefix="fieldstream-int8-") as scratch:
            extra = None
            if int8_path is not None:  # extra files keep their base name: give it the one we read back
                extra = [str(Path(scratch) / INT8_FILE)]
                shutil.copyfile(int8_path, extra[0])
            info = mlflow.onnx.log_model(
                onnx.load(str(onnx_path)),
                name="model",
                registered_model_name=name,
                metadata={"fieldstream": card},
                save_as_external_data=False,
                extra_files=extra,
            )
        version = str(info.registered_model_version)
        self.client.set_registered_model_alias(name, CHALLENGER, version)
        log.info("model registered", extra={"model": name, "version": version})
        return self.version(name, version)

    # ---- reading -----------------------------------------------------------------------------
    def version(self, name: str, version: str) -> ModelVersionInfo:
        try:
            mv = self.client.get_model_version(name, version)
        except MlflowException as exc:
            raise RegistryError(f"model {name} has no version {version}") from exc
        return ModelVersionInfo(
            name, str(mv.version), mv.run_id, tuple(mv.aliases or ()), dict(mv.tags or {})
        )

    def by_alias(self, name: str, alias: str = CHAMPION) -> ModelVersionInfo | None:
        try:
            mv = self.client.get_model_version_by_alias(name, alias)
        except MlflowException:
            return None
        return ModelVersionInfo(
            name, str(mv.version), mv.run_id, tuple(mv.aliases or ()), dict(mv.tags or {})
        )

    def versions(self, name: str) -> list[ModelVersionInfo]:
        found = self.client.search_model_versions(f"name = '{name}'")
        infos = [ModelVersionInfo(name, str(v.version), v.run_id, (), dict(v.tags or {})) for v in found]
        aliases = self._aliases(name)
        out = [
            ModelVersionInfo(
                i.name, i.version, i.run_id, tuple(a for a, v in aliases.items() if v == i.version), i.tags
            )
            for i in infos
        ]
        return sorted(out, key=lambda i: int(i.version))

    def _aliases(self, name: str) -> dict[str, str]:
        try:
            return {a: str(v) for a, v in self.client.get_registered_model(name).aliases.items()}
        except MlflowException:
            return {}

    def download(self, name: str, ref: str = CHAMPION, dst: Path | None = None) -> DownloadedModel:
        """Fetch ``models:/name@alias`` (or ``models:/name/version`` when ``ref`` is a number)."""
        info = self.version(name, ref) if ref.isdigit() else self.by_alias(name, ref)
        if info is None:
            raise RegistryError(f"model {name} has no version with alias {ref!r}")
        # The version's own artifact location: a models:/ URI here would go through MLflow's *global*
        # registry URI, not this registry's.
        source = self.client.get_model_version_download_uri(name, info.version)
        local = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=str(dst) if dst else None, tracking_uri=self.tracking_uri
            )
        )
        mlmodel = yaml.safe_load((local / "MLmodel").read_text())
        card = (mlmodel.get("metadata") or {}).get("fieldstream", {})
        onnx_files = sorted(local.glob("*.onnx"))
        if not onnx_files:
            raise RegistryError(f"{info.uri} holds no .onnx file")
        int8 = local / "extra_files" / INT8_FILE
        return DownloadedModel(name, info.version, onnx_files[0], card, int8 if int8.exists() else None)

    # ---- aliases -----------------------------------------------------------------------------
    def promote(self, name: str, version: str, reason: str) -> ModelVersionInfo:
        """Point ``champion`` at ``version`` and remember the previous champion for a rollback."""
        self.version(name, version)  # raises for an unknown version
        history = self._history(name)
        if not history or history[-1] != version:
            history.append(version)
        self.client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history))
        self.client.set_registered_model_alias(name, CHAMPION, version)
        self.client.set_model_version_tag(name, version, "promotion_reason", reason)
        log.info("model promoted", extra={"model": name, "version": version, "reason": reason})
        return self.version(name, version)

    def rollback(self, name: str, reason: str) -> ModelVersionInfo:
        """Return ``champion`` to the version that held it before the current one."""
        history = self._history(name)
        if len(history) < 2:
            raise RegistryError(f"model {name} has no earlier champion to roll back to (history {history})")
        history.pop()
        previous = history[-1]
        self.client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history))
        self.client.set_registered_model_alias(name, CHAMPION, previous)
        self.client.set_model_version_tag(name, previous, "rollback_reason", reason)
        log.info("model rolled back", extra={"model": name, "version": previous, "reason": reason})
        return self.version(name, previous)

    def _history(self, name: str) -> list[str]:
        try:
            tags = self.client.get_registered_model(name).tags
        except MlflowException as exc:
            raise RegistryError(f"no registered model named {name}") from exc
        return list(json.loads(tags.get(HISTORY_TAG, "[]")))
