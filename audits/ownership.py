"""Who owns which IAM user, and who has access where: reads over current principal states and the directory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from accounts.models import AwsAccount, NamingStandard, OwnerLink, Person
from accounts.naming import NamingRule
from accounts.people import Owner, PeopleIndex, PersonFacts, people_index, standard_name
from accounts.selectors import default_standard, directory_people, in_accounts, person_facts
from audits.models import PrincipalState
from audits.report import ROOT_USER


def current_users(accounts: QuerySet[AwsAccount]) -> QuerySet[PrincipalState]:
    """Every IAM user in the latest report of these accounts (root excluded)."""
    states = in_accounts(PrincipalState.objects.filter(valid_to__isnull=True).exclude(name=ROOT_USER), accounts)
    return states.select_related("account").order_by("account__name", "account__account_id", "name")


def accounts_under(standard: NamingStandard | None, *, is_default: bool) -> QuerySet[AwsAccount]:
    """The active accounts a standard applies to: its own, and those without one when it is the default."""
    scope = Q(naming_standard=standard) if standard is not None and standard.pk else Q(pk__in=[])
    if is_default:
        scope |= Q(naming_standard__isnull=True)
    return AwsAccount.objects.filter(scope, is_active=True)


def standard_preview(*, rule: NamingRule, accounts: QuerySet[AwsAccount]) -> list[PrincipalState]:
    """The current users of these accounts that the rule would flag (exempted names excepted)."""
    return [s for s in current_users(accounts) if not rule.fits(s.name) and rule.exemption(s.name) is None]


def _standards(accounts: Iterable[AwsAccount]) -> dict[int, NamingStandard | None]:
    fallback = default_standard()
    return {a.pk: a.naming_standard if a.naming_standard_id else fallback for a in accounts}


class _Indexes:
    """One PeopleIndex per naming standard, plus every account's hand-made links; built lazily."""

    def __init__(self, people: list[PersonFacts], standards: dict[int, NamingStandard | None]) -> None:
        self.people = people
        self.standards = standards
        self._by_standard: dict[int | None, PeopleIndex] = {}
        by_pk = {p.person_id: p for p in people}
        self.links: dict[tuple[int, str], Owner] = {}
        for account_id, user_name, person_id in OwnerLink.objects.values_list("account_id", "user_name", "person_id"):
            self.links[(account_id, user_name.casefold())] = by_pk[person_id].owner("linked by hand")

    def resolve(self, account_pk: int, user_name: str) -> tuple[Owner, ...]:
        link = self.links.get((account_pk, user_name.casefold()))
        if link is not None:
            return (link,)
        standard = self.standards.get(account_pk)
        key = standard.pk if standard is not None else None
        index = self._by_standard.get(key)
        if index is None:
            index = people_index(
                self.people,
                preset=standard.preset if standard else "",
                company_initials=standard.company_initials if standard else "",
            )
            self._by_standard[key] = index
        return index.resolve(user_name)


@dataclass(frozen=True, slots=True)
class AccessRow:
    state: PrincipalState
    owners: tuple[Owner, ...]

    @property
    def owner(self) -> Owner | None:
        return self.owners[0] if len(self.owners) == 1 else None


def access_rows(accounts: QuerySet[AwsAccount]) -> Iterator[AccessRow]:
    """Every current IAM user of these accounts with its owner(s) in the directory."""
    indexes = _Indexes(directory_people(), _standards(accounts.select_related("naming_standard")))
    for state in current_users(accounts).iterator(chunk_size=2000):
        yield AccessRow(state, indexes.resolve(state.account_id, state.name))


def person_access(*, person: Person, within: QuerySet[AwsAccount]) -> list[AccessRow]:
    """Every current IAM user this person owns, across the accounts of `within` (those the reader may see).

    One query for the candidates: the names the person's users may have (under each standard in use,
    their e-mail, their hand-made links), case-insensitively; each candidate is then resolved as the
    checks do, so that a name two people fit, or a user linked to somebody else, is not theirs.
    """
    facts = person_facts(person)
    standards = _standards(within.select_related("naming_standard"))
    names = {facts.email.casefold()} if facts.email else set()
    for standard in {s for s in standards.values() if s is not None}:
        names.add(standard_name(facts, standard.preset, standard.company_initials).casefold())
    names |= {u.casefold() for u in OwnerLink.objects.filter(person=person).values_list("user_name", flat=True)}
    names.discard("")
    candidates = current_users(within).annotate(lower_name=Lower("name")).filter(lower_name__in=names)
    indexes = _Indexes(directory_people(), standards)
    rows = [AccessRow(s, indexes.resolve(s.account_id, s.name)) for s in candidates]
    return [r for r in rows if r.owner is not None and r.owner.person_id == person.pk]
