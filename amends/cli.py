"""`amends`: one command for everything a user runs.

`amends serve`, `amends migrate`, `amends seed-demo`, `amends user create …`, `amends token
create …`, `amends worker`, `amends sweep`, and every Django management command besides
(`amends shell`, `amends createsuperuser`, …). Two-word commands map to management commands
joined by an underscore (`amends user create` → `user_create`).
"""

from __future__ import annotations

import os
import sys


def _translate(argv: list[str]) -> list[str]:
    from django.core.management import get_commands

    commands = get_commands()
    if not argv:
        return ["help"]
    first = argv[0].replace("-", "_")
    if len(argv) > 1 and not argv[1].startswith("-"):
        joined = f"{first}_{argv[1].replace('-', '_')}"
        if joined in commands:
            return [joined, *argv[2:]]
    if first in commands:
        return [first, *argv[1:]]
    return argv


def setup() -> None:
    """Django's setup with the cyclic garbage collector paused. The start makes some 70,000
    objects that live as long as the process (modules, classes, the app registry): collecting
    while they are made frees nothing (about 50 ms of a command's start), and once they are
    frozen the collections of the command's own work no longer walk them."""
    import gc

    import django

    gc.disable()
    try:
        django.setup()
    finally:
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    setup()
    args = _translate(list(sys.argv[1:] if argv is None else argv))
    execute_from_command_line(["amends", *args])


if __name__ == "__main__":
    main()
