"""``fieldstream serve``: the KServe model server (Open Inference Protocol v2 over REST)."""

from __future__ import annotations

import argparse

from fieldstream.model_names import MODEL_NAMES
from fieldstream.settings import load_settings


def register(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser(
        "serve",
        help="serve the champion models with the KServe ModelServer (V2 REST)",
        description="Serve the vision and audio champions with the real kserve ModelServer. Endpoints:"
        " /v2/health/ready, /v2/models/NAME, /v2/models/NAME/ready, POST /v2/models/NAME/infer with one"
        " input: BYTES [N] of encoded JPEG/PNG or WAV/FLAC/OGG (binary extension, or base64 in JSON), or FP32"
        " preprocessed tensors. A model not promoted yet answers 503 until it is; promotions swap it live."
        " Bodies over FIELDSTREAM_MAX_PAYLOAD_BYTES (base64 included) get 413.",
    )
    serve.add_argument(
        "--model-name",
        action="append",
        choices=MODEL_NAMES,
        default=None,
        help="model to serve (repeat for both; default both)",
    )
    serve.add_argument(
        "--model",
        default=None,
        help="models:/NAME@ALIAS, models:/NAME/VERSION or a .onnx path (only with one --model-name;"
        " default the champion, swapped on promotion)",
    )
    serve.add_argument("--http-port", type=int, default=8080, help="REST port (default 8080)")
    serve.add_argument(
        "--host",
        default="0.0.0.0",
        help="address the REST server binds (default 0.0.0.0, as in a container;"
        " the local stack passes 127.0.0.1)",
    )
    serve.add_argument("--grpc-port", type=int, default=None, help="also serve gRPC on this port")
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from inference_workers.serving.server import serve

    names = args.model_name or list(MODEL_NAMES)
    if args.model and len(names) != 1:
        raise SystemExit("error: --model needs exactly one --model-name")
    serve(load_settings(), names, args.model, args.http_port, args.grpc_port, args.host)
    return 0
