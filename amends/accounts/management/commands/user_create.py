from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.accounts.choices import Role
from amends.accounts.services import staff_create
from amends.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create a staff user: amends user create USERNAME --role ROLE --team TEAM [--password P]"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--team", default=None, help="Team name (created if new)")
        parser.add_argument(
            "--password", default=None, help="Without it the user cannot log in until one is set"
        )
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            user = staff_create(
                username=opts["username"],
                role=opts["role"],
                team_name=opts["team"],
                password=opts["password"],
                email=opts["email"],
            )
        except ApplicationError as exc:
            problems = [
                f"{field}: {' '.join(map(str, msgs))}" for field, msgs in exc.detail.items()
            ]
            raise CommandError(" ".join([exc.message, *problems])) from exc
        team = f" in team {opts['team']}" if opts["team"] else ""
        self.stdout.write(f"Created {opts['role']} {user.username}{team}.")
