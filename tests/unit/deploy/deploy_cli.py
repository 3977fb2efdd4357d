"""Do the commands that the images run exist in ``fieldstream --help``?

The parser is the root CLI's own (:func:`app.cli.build_parser`): the stack and demo commands plus
every component's, found through the ``fieldstream.commands`` entry points of the installed project.
A command group that is not registered yet (being built) is *pending*: its only check is that the
image's entrypoint is ``fieldstream``. Once registered, the full argument list must parse.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io

from app.cli import build_parser

#: The image names that run FieldStream's CLI as their entrypoint (docker/Dockerfile, .gpu).
CLI_IMAGES = ("fieldstream/fieldstream", "fieldstream/fieldstream-gpu")


#: ``python -m MODULE`` runs the CLI for these (``python -m fieldstream`` is gone: the kernel has no CLI)
CLI_MODULES = ("app",)


@functools.cache
def _parser() -> argparse.ArgumentParser:
    try:
        return build_parser()
    except SystemExit as exc:  # no entry points: the project is not installed
        raise AssertionError(f"the root CLI cannot be built: {exc}") from exc


def registered_commands() -> set[str]:
    for action in _parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def cli_args(command: list[str] | None, args: list[str] | None) -> list[str]:
    """The arguments ``fieldstream`` receives from a container's command/args (entrypoint kept when
    there is no command; ``python ... -m app ARGS`` unwrapped)."""
    command, args = list(command or []), list(args or [])
    if not command:
        return args
    full = command + args
    if "-m" in full and full[full.index("-m") + 1] in CLI_MODULES:
        return full[full.index("-m") + 2 :]
    if full[0] == "fieldstream":
        return full[1:]
    raise AssertionError(f"runs {full[0]!r}, not the fieldstream CLI")


def check(argv: list[str]) -> str:
    """'ok' when ``fieldstream ARGV`` parses, 'pending' when its command group is not registered
    yet; raises AssertionError with argparse's message otherwise."""
    assert argv, "no command: the image would only print --help"
    if argv[0] not in registered_commands():
        return "pending"
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            _parser().parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(
            f"`fieldstream {' '.join(argv)}` does not parse: {err.getvalue().strip()}"
        ) from exc
    return "ok"


def image_name(image: str) -> str:
    """``registry/name:tag`` -> ``registry/name`` (digests too)."""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    last = last.split(":", 1)[0]  # a tag, even an interpolated one: ${TAG:-0.1.0}
    return f"{head}/{last}" if head else last
