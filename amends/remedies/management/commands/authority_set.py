from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.exceptions import ApplicationError
from amends.remedies.services.matrix import authority_rule_set


class Command(BaseCommand):
    help = (
        "Set one rule of the authority matrix: `amends authority set --role agent --kind refund "
        "--max-per-remedy 50 --max-per-case 100 --max-per-customer 200 --period-days 30`. "
        "With --user the rule is that person's own and beats their role's rule. "
        "Leaving out a maximum means no limit on it; --deny forbids the kind."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", help="agent, supervisor, manager or admin")
        parser.add_argument("--user", help="A username: a personal rule overriding the role's")
        parser.add_argument("--kind", required=True, help="Remedy kind code, e.g. refund")
        parser.add_argument("--max-per-remedy", dest="max_per_remedy")
        parser.add_argument("--max-per-case", dest="max_per_case")
        parser.add_argument("--max-per-customer", dest="max_per_customer")
        parser.add_argument("--period-days", dest="period_days", type=int)
        parser.add_argument("--deny", action="store_true", help="Forbid this kind entirely")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"], staff__isnull=False).first()
            if user is None:
                raise CommandError(f"No staff member {options['user']!r}.")
            if options["role"] and options["role"] != user.staff.role:
                raise CommandError(
                    f"{user.username}'s role is {user.staff.role}, not {options['role']}; "
                    "give their role with --role, or leave --role out."
                )
        elif not options["role"]:
            raise CommandError("Give --role ROLE or --user USERNAME.")
        try:
            rule = authority_rule_set(
                kind=options["kind"],
                role=options["role"],
                user=user,
                allowed=not options["deny"],
                max_per_remedy=options["max_per_remedy"],
                max_per_case=options["max_per_case"],
                max_per_customer=options["max_per_customer"],
                period_days=options["period_days"],
                actor=None,
                source="cli",
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        who = f"user {user.username}" if user else f"role {rule.role}"
        verdict = "allowed" if rule.allowed else "denied"
        self.stdout.write(f"Set {rule.kind.code} for {who}: {verdict}.")
