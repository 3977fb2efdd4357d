"""Every command and sub-command answers --help (and says something about itself)."""

from __future__ import annotations

import argparse

import pytest

from app.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*prefix, name))
    return found


COMMANDS = _commands(build_parser())


def test_the_stack_commands_are_there():
    assert {("stack", "up"), ("stack", "down"), ("stack", "status"), ("stack", "env"), ("demo",)} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "fieldstream")
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: fieldstream")
    assert len(out.splitlines()) >= 4
