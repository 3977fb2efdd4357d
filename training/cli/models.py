"""``fieldstream models list | promote | rollback``: the MLflow registry for people."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fieldstream.model_names import CHAMPION, MODEL_NAMES
from fieldstream.settings import load_settings

if TYPE_CHECKING:
    from model_contract.registry import ModelRegistry


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser(
        "models",
        help="list registered models, promote a version to champion, roll back",
        description="Registered models in MLflow. Workers and the KServe server run the version with the"
        " alias `champion` and swap when it moves (a models.events.v1 event tells them).",
    )
    verbs = models.add_subparsers(dest="verb", required=True, metavar="VERB")

    ls = verbs.add_parser("list", help="versions, aliases and key metrics of each model")
    ls.add_argument("name", nargs="?", choices=MODEL_NAMES, help="one model (default: both)")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=_list)

    promote = verbs.add_parser(
        "promote", help="make VERSION the champion (a person's decision; recorded with the reason)"
    )
    promote.add_argument("name", choices=MODEL_NAMES)
    promote.add_argument("version", help="registered version number")
    promote.add_argument("--reason", required=True, help="why (kept on the version and in the event)")
    promote.set_defaults(handler=_promote)

    rollback = verbs.add_parser("rollback", help="return champion to the previous champion")
    rollback.add_argument("name", choices=MODEL_NAMES)
    rollback.add_argument("--reason", required=True, help="why (kept on the version and in the event)")
    rollback.set_defaults(handler=_rollback)


def _registry() -> ModelRegistry:
    from model_contract.registry import ModelRegistry  # mlflow is slow to import: only when needed

    return ModelRegistry(load_settings().mlflow_tracking_uri)


def _list(args: argparse.Namespace) -> int:
    registry = _registry()
    rows = []
    for name in [args.name] if args.name else MODEL_NAMES:
        for v in registry.versions(name):
            metrics = {
                k.removeprefix("metric."): v.tags[k] for k in sorted(v.tags) if k.startswith("metric.")
            }
            rows.append(
                {
                    "model": name,
                    "version": v.version,
                    "aliases": list(v.aliases),
                    "metrics": metrics,
                    "run_id": v.run_id,
                }
            )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'MODEL':<18} {'VERSION':>7}  {'ALIASES':<22} METRICS")
    for r in rows:
        metrics = " ".join(f"{k}={v}" for k, v in r["metrics"].items())
        print(f"{r['model']:<18} {r['version']:>7}  {','.join(r['aliases']) or '-':<22} {metrics}")
    if not rows:
        print("(no registered models yet: train one with `fieldstream train vision|audio`)")
    return 0


def _promote(args: argparse.Namespace) -> int:
    reason = f"manual: {args.reason}"
    return _move_champion(args.name, "promoted", lambda r: r.promote(args.name, args.version, reason), reason)


def _rollback(args: argparse.Namespace) -> int:
    return _move_champion(args.name, "rolled_back", lambda r: r.rollback(args.name, args.reason), args.reason)


def _move_champion(name: str, event: str, move: Callable[[ModelRegistry], Any], reason: str) -> int:
    """Move the champion alias, publish the event that makes workers and servers swap, say so."""
    from model_contract.registry import RegistryError
    from training.events import model_event, publish_model_event

    settings = load_settings()
    try:
        info = move(_registry())
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    publish_model_event(
        settings,
        model_event(
            event, name, info.version, alias=CHAMPION, run_id=info.run_id, reason=reason, uri=info.uri
        ),
    )
    print(f"{name}: version {info.version} is now {CHAMPION} ({event.replace('_', ' ')})")
    return 0
