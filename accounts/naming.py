"""Naming standards as pure data: presets, compiled rules and shared-login words. No ORM here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import re2  # google-re2: linear time whatever the pattern, so that no standard can stall a page or a run


class Preset(StrEnum):
    INITIALS_EMPLOYEE_ID = "initials_employee_id"
    FIRST_UNDERSCORE_LAST = "first_underscore_last"
    INITIAL_LASTNAME = "initial_lastname"
    COMPANY_EMPLOYEE_ID = "company_employee_id"
    CUSTOM = "custom"


# Practice example: John Smith, employee 1234, company SF.
_NAME = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)*"  # IAM names allow no apostrophe
PRESET_PATTERNS: dict[Preset, str] = {
    Preset.INITIALS_EMPLOYEE_ID: r"[A-Z]{2}[0-9]+",
    Preset.FIRST_UNDERSCORE_LAST: rf"{_NAME}_{_NAME}",
    Preset.INITIAL_LASTNAME: rf"[A-Z]{_NAME}",
    Preset.COMPANY_EMPLOYEE_ID: r"{company}[0-9]+",
}
PRESET_EXAMPLES: dict[Preset, str] = {
    Preset.INITIALS_EMPLOYEE_ID: "JS1234",
    Preset.FIRST_UNDERSCORE_LAST: "John_Smith",
    Preset.INITIAL_LASTNAME: "JSmith",
    Preset.COMPANY_EMPLOYEE_ID: "{company}1234",
}
PRESET_LABELS: dict[Preset, str] = {
    Preset.INITIALS_EMPLOYEE_ID: "Initials and employee id (JS1234)",
    Preset.FIRST_UNDERSCORE_LAST: "First_Last (John_Smith)",
    Preset.INITIAL_LASTNAME: "Initial and last name (JSmith)",
    Preset.COMPANY_EMPLOYEE_ID: "Company initials and employee id (SF1234)",
    Preset.CUSTOM: "Custom regular expression",
}


class NamingRuleError(ValueError):
    """A standard that cannot be compiled (bad regex, company preset without initials)."""


MAX_CUSTOM_REGEX = 200  # characters; a naming standard is a short rule, and RE2's memory grows with the pattern


@dataclass(frozen=True, slots=True)
class NamingRule:
    """A compiled naming standard plus its exempted user names (name -> reason)."""

    label: str
    pattern: Any  # a compiled pattern (RE2 for a custom regex); None: no standard set, every name fits
    example: str = ""
    exemptions: dict[str, str] = field(default_factory=dict)

    def fits(self, user_name: str) -> bool:
        return self.pattern is None or self.pattern.fullmatch(user_name) is not None

    def exemption(self, user_name: str) -> str | None:
        return self.exemptions.get(user_name)


def compile_rule(
    preset: str,
    *,
    custom_regex: str = "",
    company_initials: str = "",
    exemptions: dict[str, str] | None = None,
    label: str = "",
) -> NamingRule:
    """Build the NamingRule of a preset or a custom regex; raise NamingRuleError if it cannot be built."""
    try:
        kind = Preset(preset)
    except ValueError:
        raise NamingRuleError(f"unknown naming preset {preset!r} (choose from {', '.join(p.value for p in Preset)})") from None
    if kind is Preset.CUSTOM:
        if not custom_regex:
            raise NamingRuleError("the custom naming standard needs a regular expression")
        if len(custom_regex) > MAX_CUSTOM_REGEX:
            raise NamingRuleError(f"the regular expression is longer than {MAX_CUSTOM_REGEX} characters")
        source, example = custom_regex, ""
    elif kind is Preset.COMPANY_EMPLOYEE_ID:
        if not company_initials.isalpha():
            raise NamingRuleError("the company_employee_id preset needs the company's initials (letters), e.g. SF")
        source = PRESET_PATTERNS[kind].format(company=re.escape(company_initials))
        example = PRESET_EXAMPLES[kind].format(company=company_initials)
    else:
        source, example = PRESET_PATTERNS[kind], PRESET_EXAMPLES[kind]
    if kind is not Preset.CUSTOM:  # our own patterns, without ambiguous repetition: Python's re is linear on them,
        # and some twenty times faster per name than the RE2 binding's Python wrapper (a 10,000-user report checks
        # every name twice); tests/accounts/test_naming.py holds the two engines to the same answers
        return NamingRule(label=label or PRESET_LABELS[kind], pattern=re.compile(source), example=example, exemptions=dict(exemptions or {}))
    try:
        pattern = re2.compile(source)
    except re2.error as exc:
        raise NamingRuleError(
            f"invalid regular expression {source!r} ({exc}); IAMWatch matches in linear time (RE2), so backreferences "
            "and lookahead or lookbehind are not available"
        ) from None
    return NamingRule(label=label or PRESET_LABELS[kind], pattern=pattern, example=example, exemptions=dict(exemptions or {}))


NO_STANDARD = NamingRule(label="no naming standard", pattern=None)

# Words that name a role, a team or a shared login rather than a person (networkAdmin, DbaAdmin, AccountsAdmin).
SHARED_WORDS = frozenset(
    {
        "admin",
        "admins",
        "administrator",
        "administrators",
        "sysadmin",
        "netadmin",
        "superuser",
        "root",
        "ops",
        "devops",
        "secops",
        "netops",
        "dba",
        "dbas",
        "network",
        "networks",
        "accounts",
        "billing",
        "finance",
        "shared",
        "share",
        "team",
        "group",
        "generic",
        "common",
        "guest",
        "temp",
        "test",
        "tester",
        "operator",
        "operators",
        "support",
        "helpdesk",
        "everyone",
        "all",
        "staff",
    }
)
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def name_words(user_name: str) -> list[str]:
    """Split a user name into lower-case words at separators and camelCase humps (networkAdmin -> network, admin)."""
    return [w.lower() for w in _WORD.findall(user_name)]


def shared_words(user_name: str) -> list[str]:
    """The words of a user name that suggest a role, team or shared login."""
    return [w for w in name_words(user_name) if w in SHARED_WORDS]
