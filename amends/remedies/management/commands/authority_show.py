from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.accounts.choices import Role
from amends.remedies.authority import Limits, limits_table_for
from amends.remedies.selectors import authority_rule_list, cannot_do_list, remedy_kind_list

HEADERS = ["who", "kind", "allowed", "per remedy", "per case", "per customer", "period"]


def _money(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:.2f}"


class Command(BaseCommand):
    help = (
        "Print the authority matrix: every rule, one role's rules (--role), or a person's "
        "effective limits per kind (--user), with the role's cannot-do list."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--role")
        group.add_argument("--user")

    def _table(self, rows: list[list[str]]) -> None:
        widths = [max(len(r[i]) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]
        for row in [HEADERS, *rows]:
            self.stdout.write(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            )

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"]
        if role is not None and role not in Role.values:
            raise CommandError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
        if options["user"]:
            user = User.objects.filter(username=options["user"], staff__isnull=False).first()
            if user is None:
                raise CommandError(f"No staff member {options['user']!r}.")
            self._effective(user)
            role = user.staff.role
        else:
            rules = authority_rule_list(role=role)
            if not rules:
                self.stdout.write("No authority rules.")
            else:
                self._table(
                    [
                        [
                            f"user {r.user.username}" if r.user else f"role {r.role}",
                            r.kind.code,
                            "yes" if r.allowed else "no",
                            _money(r.max_per_remedy),
                            _money(r.max_per_case),
                            _money(r.max_per_customer),
                            f"{r.period_days}d" if r.period_days else "-",
                        ]
                        for r in rules
                    ]
                )
        if role:
            items = cannot_do_list(role=role)
            if items:
                self.stdout.write(f"\nA {role} can never:")
                for item in items:
                    self.stdout.write(f"  - {item}")

    def _effective(self, user: User) -> None:
        kinds = remedy_kind_list()
        table = limits_table_for(user=user, kinds=kinds)

        def row(code: str, limits: Limits) -> list[str]:
            return [
                f"{user.username} ({limits.source})",
                code,
                "yes" if limits.allowed else "no",
                _money(limits.max_per_remedy) if limits.allowed else "-",
                _money(limits.max_per_case) if limits.allowed else "-",
                _money(limits.max_per_customer) if limits.allowed else "-",
                f"{limits.period_days}d" if limits.period_days else "-",
            ]

        self._table([row(k.code, table[k.pk]) for k in kinds])
