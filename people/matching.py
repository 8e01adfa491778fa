"""Who owns an IAM user, as pure data: the names a person's users take under each naming standard. No ORM here.

Practice example: John Smith, employee 1234, company SF is JS1234, John_Smith, JSmith or SF1234. A user
is owned by the person it was linked to by hand; otherwise by the person whose name under the account's
standard, or whose e-mail address, it is (IAM user names compare case-insensitively). A name that fits
two people is owned by nobody until somebody links it by hand.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from accounts.naming import Preset


class Owner(NamedTuple):
    person_id: int
    employee_id: str
    name: str
    active: bool
    how: str  # "by naming standard", "by e-mail", "linked by hand"

    def describe(self) -> str:
        return f"{self.name} (employee {self.employee_id})"


class PersonFacts(NamedTuple):
    person_id: int
    employee_id: str
    first_name: str
    last_name: str
    email: str
    active: bool

    def owner(self, how: str) -> Owner:
        return Owner(self.person_id, self.employee_id, f"{self.first_name} {self.last_name}".strip(), self.active, how)


_NOT_IAM = re.compile(r"[^A-Za-z0-9+=,.@_-]")


def _iam_part(text: str) -> str:
    """A name part as IAM allows it: accents dropped (José -> Jose), spaces and apostrophes removed (O'Neil -> ONeil).

    "" when a letter has no ASCII form (ł, ß, Cyrillic): guessing would map the user to the wrong person,
    so such a person's users map by e-mail or by hand.
    """
    ascii_text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    if any(c.isalpha() and not c.isascii() for c in ascii_text):
        return ""
    return _NOT_IAM.sub("", ascii_text)


def _initial(text: str) -> str:
    part = _iam_part(text)
    return part[:1].upper()


def standard_name(person: PersonFacts, preset: str, company_initials: str = "") -> str:
    """The user name a person gets under a preset ("" for a custom standard, which names nobody by rule)."""
    first, last = _iam_part(person.first_name.strip()), _iam_part(person.last_name.strip())
    if not first or not last:
        return ""
    match preset:
        case Preset.INITIALS_EMPLOYEE_ID:
            return f"{_initial(first)}{_initial(last)}{_iam_part(person.employee_id)}"
        case Preset.FIRST_UNDERSCORE_LAST:
            return f"{first}_{last}"
        case Preset.INITIAL_LASTNAME:
            return f"{_initial(first)}{last}"
        case Preset.COMPANY_EMPLOYEE_ID:
            return f"{company_initials}{_iam_part(person.employee_id)}" if company_initials else ""
    return ""


@dataclass(frozen=True, slots=True)
class PeopleIndex:
    """Owners by casefolded user name. Build it with people_index(); resolve() answers for one user."""

    by_name: dict[str, tuple[Owner, ...]]
    links: dict[str, Owner]

    def resolve(self, user_name: str) -> tuple[Owner, ...]:
        """() for nobody, (owner,) for one owner, more for a name that fits several people."""
        key = user_name.casefold()
        link = self.links.get(key)
        if link is not None:
            return (link,)
        return self.by_name.get(key, ())


def people_index(
    people: Iterable[PersonFacts],
    *,
    preset: str,
    company_initials: str = "",
    links: Iterable[tuple[str, PersonFacts]] = (),
) -> PeopleIndex:
    """Index a directory under one naming standard, plus the account's hand-made links (user name, person)."""
    found: defaultdict[str, dict[int, Owner]] = defaultdict(dict)
    for person in people:
        name = standard_name(person, preset, company_initials)
        if name:
            found[name.casefold()][person.person_id] = person.owner("by naming standard")
        if person.email:
            found[person.email.casefold()].setdefault(person.person_id, person.owner("by e-mail"))
    linked = {user_name.casefold(): p.owner("linked by hand") for user_name, p in links}
    return PeopleIndex(by_name={k: tuple(v.values()) for k, v in found.items()}, links=linked)
