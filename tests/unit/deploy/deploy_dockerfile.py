"""A small reader of Dockerfiles (instructions, with continuation lines joined) and the rules that
FieldStream's images follow."""

from __future__ import annotations

import json
import re

APP_RULES = ("non-root USER", "ENTRYPOINT ends with fieldstream", "installs the project with pip")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; comments dropped, backslash continuations joined."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    )
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def final_stage(text: str) -> list[tuple[str, str]]:
    steps = instructions(text)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def app_image_problems(text: str) -> list[str]:
    """What an image whose entrypoint is the fieldstream CLI gets wrong (empty when nothing)."""
    problems = []
    final = final_stage(text)
    users = [args for word, args in final if word == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append(APP_RULES[0])
    entry = [args for word, args in final if word == "ENTRYPOINT"]
    if not entry or json.loads(entry[-1])[-1] != "fieldstream":
        problems.append(APP_RULES[1])
    if not any(
        word == "RUN" and re.search(r"pip install[^&]* \"?\.(\[\w+\])?\"?(\s|$)", args)
        for word, args in instructions(text)
    ):
        problems.append(APP_RULES[2])
    return problems
