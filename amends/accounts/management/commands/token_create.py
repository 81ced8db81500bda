from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it (last line). It is shown only once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(username=opts["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {opts['username']!r}.")
        _, raw = api_token_create(user=user, name=opts["name"])
        self.stderr.write(f"API token for {user.username} (store it now; it is not shown again):")
        self.stdout.write(raw)
