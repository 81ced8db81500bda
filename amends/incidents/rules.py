"""Recovery-policy rules: their shape, the conflicts between them, and what they give a customer.

Pure functions over plain data (no database), so a policy can be checked, evaluated for 50,000
customers and explained line by line without a query per customer.

A rule is a dict:

    {"code": "comp_short", "label": "Compensation, flights up to 1,500 km",
     "remedy": "compensation", "amount": "250.00",
     "when": [["distance_km", "<=", 1500], ["magnitude", ">=", 180]],
     "care": false,
     "reduce": {"when": [["reroute_delay_minutes", "<=", 120]], "factor": "0.5"},
     "exempt": {"when": [["notice_days", ">=", 14]]},
     "alternatives": [{"remedy": "voucher", "factor": "1.2"}],
     "slot": "compensation"}

- `when`: every condition must hold (a missing input makes it false). Inputs are the incident's
  `magnitude` (or the customer's own), the customer's `tier`, and any per-customer input.
- `care`: owed whatever the cause; granted outright, never exempted, never part of a choice.
- `reduce`: multiply the amount by `factor` (0 < factor < 1) when its conditions hold.
- `exempt`: nothing is due when its conditions hold (e.g. notice given early enough).
- `alternatives`: other remedies the customer may take instead (same value times `factor`).
- `slot`: rules in one slot (default: the remedy) must never apply together, or the policy
  is refused with both rules named.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

OPS = ("<", "<=", ">", ">=", "==", "!=", "in")
FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_RULES = 100
MAX_AMOUNT = Decimal("9999999999.99")
CENT = Decimal("0.01")


class RuleError(ValueError):
    """A policy's rules are malformed or conflict; `problems` names each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# ---- validation ---------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | str | Decimal):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _check_conditions(conditions: Any, where: str, problems: list[str]) -> None:
    if not isinstance(conditions, list):
        problems.append(f"{where}: conditions must be a list of [input, operator, value].")
        return
    for condition in conditions:
        if not (isinstance(condition, list | tuple) and len(condition) == 3):
            problems.append(f"{where}: {condition!r} is not [input, operator, value].")
            continue
        name, op, value = condition
        if not isinstance(name, str) or not FIELD_RE.match(name):
            problems.append(f"{where}: {name!r} is not an input name (lower_snake_case).")
        if op not in OPS:
            problems.append(f"{where}: unknown operator {op!r}; use one of {', '.join(OPS)}.")
        elif op in ("<", "<=", ">", ">=") and _number(value) is None:
            problems.append(f"{where}: {name} {op} needs a number, not {value!r}.")
        elif op == "in" and not (isinstance(value, list) and value):
            problems.append(f"{where}: {name} in needs a non-empty list.")
        elif op in ("==", "!=") and not isinstance(value, str | int | float | bool):
            problems.append(f"{where}: {name} {op} needs a plain value, not {value!r}.")


def _amount(value: Any, where: str, problems: list[str]) -> Decimal | None:
    if value is None or value == "":
        return None
    number = _number(value)
    if number is None or number <= 0 or number > MAX_AMOUNT:
        problems.append(f"{where}: the amount must be a positive number, not {value!r}.")
        return None
    return number.quantize(CENT)


def _factor(value: Any, where: str, problems: list[str], *, below_one: bool) -> None:
    number = _number(value)
    if number is None or number <= 0 or (below_one and number >= 1) or number > 100:
        bound = "between 0 and 1" if below_one else "above 0"
        problems.append(f"{where}: factor must be a number {bound}, not {value!r}.")


def rules_check(rules: Any) -> list[dict[str, Any]]:
    """Validate shape and conflicts; return the rules normalised, or raise RuleError."""
    problems: list[str] = []
    if not isinstance(rules, list) or not rules:
        raise RuleError(["A policy needs a non-empty list of rules."])
    if len(rules) > MAX_RULES:
        raise RuleError([f"A policy has at most {MAX_RULES} rules."])
    seen: set[str] = set()
    clean: list[dict[str, Any]] = []
    for index, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict):
            problems.append(f"Rule {index} is not an object.")
            continue
        code = rule.get("code")
        where = f"Rule {code!r}" if isinstance(code, str) else f"Rule {index}"
        if not isinstance(code, str) or not FIELD_RE.match(code):
            problems.append(f"{where}: code must be lower_snake_case.")
        elif code in seen:
            problems.append(f"{where}: the code is used twice.")
        else:
            seen.add(code)
        remedy = rule.get("remedy")
        if not isinstance(remedy, str) or not remedy.strip() or len(remedy) > 40:
            problems.append(f"{where}: name the remedy kind (e.g. compensation).")
        amount = _amount(rule.get("amount"), where, problems)
        _check_conditions(rule.get("when", []), where, problems)
        for part in ("reduce", "exempt"):
            extra = rule.get(part)
            if extra is None:
                continue
            if not isinstance(extra, dict):
                problems.append(f"{where}: {part} must be an object.")
                continue
            _check_conditions(extra.get("when", []), f"{where} ({part})", problems)
            if part == "reduce":
                _factor(extra.get("factor"), f"{where} (reduce)", problems, below_one=True)
                if amount is None:
                    problems.append(f"{where}: only an amount can be reduced.")
        care = bool(rule.get("care", False))
        if care and rule.get("exempt") is not None:
            problems.append(f"{where}: care is owed whatever the cause; it cannot be exempted.")
        alternatives = rule.get("alternatives", [])
        if not isinstance(alternatives, list) or len(alternatives) > 5:
            problems.append(f"{where}: alternatives must be a list of at most 5.")
            alternatives = []
        if alternatives and care:
            problems.append(f"{where}: care is given outright; it has no alternatives.")
        for alt in alternatives:
            if not isinstance(alt, dict) or not isinstance(alt.get("remedy"), str):
                problems.append(f"{where}: each alternative names a remedy.")
                continue
            if "factor" in alt:
                _factor(alt["factor"], f"{where} (alternative)", problems, below_one=False)
                if amount is None:
                    problems.append(f"{where}: a factor alternative needs the rule's amount.")
            else:
                _amount(alt.get("amount"), f"{where} (alternative)", problems)
        if not problems:
            when = rule.get("when", [])
            if not _satisfiable(when):
                problems.append(f"{where}: its conditions contradict each other ({_show(when)}).")
        clean.append(
            {
                "code": code,
                "label": str(rule.get("label") or code)[:200],
                "remedy": remedy,
                "amount": None if amount is None else str(amount),
                "when": [list(c) for c in rule.get("when", [])],
                "care": care,
                "reduce": rule.get("reduce"),
                "exempt": rule.get("exempt"),
                "alternatives": alternatives,
                "slot": str(rule.get("slot") or remedy),
            }
        )
    if problems:
        raise RuleError(problems)
    problems.extend(conflicts(clean))
    if problems:
        raise RuleError(problems)
    return clean


def conflicts(rules: list[dict[str, Any]]) -> list[str]:
    """Pairs of rules in one slot that can both apply to the same customer."""
    found = []
    for a, b in itertools.combinations(rules, 2):
        if a["slot"] != b["slot"]:
            continue
        if _satisfiable(a["when"] + b["when"]):
            found.append(
                f"Rules {a['code']!r} and {b['code']!r} overlap: both give {a['slot']} when "
                f"{_show(a['when'] + b['when']) or 'always'}. Narrow one of them."
            )
    return found


def _show(conditions: list[Any]) -> str:
    return " and ".join(f"{c[0]} {c[1]} {c[2]}" for c in conditions)


# ---- satisfiability over intervals and value sets ----------------------------------------


@dataclass
class _Domain:
    lo: Decimal | None = None
    lo_in: bool = True
    hi: Decimal | None = None
    hi_in: bool = True
    allowed: set[Any] | None = None  # from == and in
    banned: set[Any] = field(default_factory=set)
    numeric: bool = False

    def narrow(self, op: str, value: Any) -> None:
        if op in ("<", "<="):
            number = _number(value)
            assert number is not None  # noqa: S101  # checked by rules_check
            self.numeric = True
            if self.hi is None or number < self.hi or (number == self.hi and op == "<"):
                self.hi, self.hi_in = number, op == "<="
        elif op in (">", ">="):
            number = _number(value)
            assert number is not None  # noqa: S101
            self.numeric = True
            if self.lo is None or number > self.lo or (number == self.lo and op == ">"):
                self.lo, self.lo_in = number, op == ">="
        elif op == "==":
            self._allow({_key(value)})
        elif op == "in":
            self._allow({_key(v) for v in value})
        elif op == "!=":
            self.banned.add(_key(value))

    def _allow(self, values: set[Any]) -> None:
        self.allowed = values if self.allowed is None else self.allowed & values

    def _in_range(self, value: Any) -> bool:
        if not self.numeric:
            return True
        number = _number(value)
        if number is None:
            return False
        if self.lo is not None and (number < self.lo or (number == self.lo and not self.lo_in)):
            return False
        return not (
            self.hi is not None and (number > self.hi or (number == self.hi and not self.hi_in))
        )

    def possible(self) -> bool:
        if self.allowed is not None:
            return any(v not in self.banned and self._in_range(v) for v in self.allowed)
        if self.lo is None or self.hi is None:
            return True
        if self.lo < self.hi:
            return True
        return self.lo == self.hi and self.lo_in and self.hi_in and self.lo not in self.banned


def _key(value: Any) -> Any:
    """Compare 3 and "3" and 3.0 alike; keep booleans and words as they are."""
    if isinstance(value, bool):
        return value
    number = _number(value)
    return number if number is not None else str(value)


def _satisfiable(conditions: list[Any]) -> bool:
    domains: dict[str, _Domain] = {}
    for name, op, value in conditions:
        domains.setdefault(name, _Domain()).narrow(op, value)
    return all(d.possible() for d in domains.values())


# ---- evaluation --------------------------------------------------------------------------


def _holds(condition: list[Any], inputs: dict[str, Any]) -> bool:
    name, op, value = condition
    if name not in inputs or inputs[name] is None or inputs[name] == "":
        return False
    actual = inputs[name]
    if op in ("<", "<=", ">", ">="):
        left, right = _number(actual), _number(value)
        if left is None or right is None:
            return False
        return {
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[op]
    if op == "==":
        return bool(_key(actual) == _key(value))
    if op == "!=":
        return bool(_key(actual) != _key(value))
    return _key(actual) in {_key(v) for v in value}


def _all_hold(conditions: list[Any], inputs: dict[str, Any]) -> tuple[bool, list[str]]:
    why = []
    for condition in conditions:
        ok = _holds(condition, inputs)
        name = condition[0]
        shown = inputs.get(name, "not given")
        why.append(f"{_show([condition])}: {'yes' if ok else 'no'} ({name} = {shown})")
        if not ok:
            return False, why
    return True, why


@dataclass(frozen=True)
class Line:
    """One line of a customer's outcome: what a rule gives them (or why it does not)."""

    rule: str
    label: str
    remedy: str
    amount: str | None
    status: str  # owed | option | exempt | not_applicable | over_budget
    why: tuple[str, ...]
    care: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "label": self.label,
            "remedy": self.remedy,
            "amount": self.amount,
            "status": self.status,
            "care": self.care,
            "why": list(self.why),
        }


def evaluate(rules: list[dict[str, Any]], inputs: dict[str, Any]) -> list[Line]:
    """Every rule applied to one customer's inputs, with the reason for each outcome."""
    lines: list[Line] = []
    for rule in rules:
        applies, why = _all_hold(rule["when"], inputs)
        if not rule["when"]:
            why = ["no conditions: always applies"]
        base = {"rule": rule["code"], "label": rule["label"], "care": rule["care"]}
        if not applies:
            lines.append(
                Line(
                    **base,
                    remedy=rule["remedy"],
                    amount=rule["amount"],
                    status="not_applicable",
                    why=tuple(why),
                )
            )
            continue
        exempt = rule.get("exempt")
        if exempt and not rule["care"]:
            is_exempt, exempt_why = _all_hold(exempt.get("when", []), inputs)
            if is_exempt:
                lines.append(
                    Line(
                        **base,
                        remedy=rule["remedy"],
                        amount=rule["amount"],
                        status="exempt",
                        why=(*why, *(f"exempt: {w}" for w in exempt_why)),
                    )
                )
                continue
        amount = None if rule["amount"] is None else Decimal(rule["amount"])
        reduce = rule.get("reduce")
        if reduce and amount is not None:
            reduced, reduce_why = _all_hold(reduce.get("when", []), inputs)
            if reduced:
                factor = Decimal(str(reduce["factor"]))
                amount = (amount * factor).quantize(CENT)
                why = [*why, *(f"reduced ×{factor}: {w}" for w in reduce_why)]
        status = "owed" if rule["care"] else "option"
        shown = None if amount is None else str(amount)
        lines.append(
            Line(**base, remedy=rule["remedy"], amount=shown, status=status, why=tuple(why))
        )
        for alt in rule.get("alternatives", []):
            if "factor" in alt and amount is not None:
                alt_amount: str | None = str((amount * Decimal(str(alt["factor"]))).quantize(CENT))
            else:
                alt_amount = None if alt.get("amount") in (None, "") else str(alt["amount"])
            lines.append(
                Line(
                    rule=rule["code"],
                    label=str(alt.get("label") or f"{rule['label']}: {alt['remedy']} instead"),
                    remedy=str(alt["remedy"]),
                    amount=alt_amount,
                    status="option",
                    why=(f"instead of {rule['remedy']} {shown or ''}".strip(),),
                )
            )
    return lines


def budget_apply(lines: list[Line], remaining: Decimal | None) -> tuple[list[Line], Decimal]:
    """Drop the lines the remaining budget cannot cover; return the lines and what they reserve.

    The reservation is what the outcome could cost at most: every owed amount plus the
    dearest option (the customer picks only one).
    """
    owed = Decimal("0")
    kept: list[Line] = []
    for line in lines:
        if line.status == "owed" and line.amount is not None:
            value = Decimal(line.amount)
            if remaining is not None and owed + value > remaining:
                line = _over(line)
            else:
                owed += value
        kept.append(line)
    dearest = Decimal("0")
    final: list[Line] = []
    for line in kept:
        if line.status == "option" and line.amount is not None:
            value = Decimal(line.amount)
            if remaining is not None and owed + value > remaining:
                line = _over(line)
            else:
                dearest = max(dearest, value)
        final.append(line)
    return final, owed + dearest


def _over(line: Line) -> Line:
    return Line(
        rule=line.rule,
        label=line.label,
        remedy=line.remedy,
        amount=line.amount,
        status="over_budget",
        why=(*line.why, "left out: the incident's budget cap is reached"),
        care=line.care,
    )
