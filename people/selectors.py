"""Reads of the people directory and of who owns which IAM user."""

from __future__ import annotations

from accounts.models import AwsAccount, NamingStandard
from accounts.selectors import account_standard
from people.matching import PeopleIndex, PersonFacts, people_index
from people.models import OwnerLink, Person


def person_facts(person: Person) -> PersonFacts:
    return PersonFacts(person.pk, person.employee_id, person.first_name, person.last_name, person.email, person.active)


PERSON_FIELDS = ("pk", "employee_id", "first_name", "last_name", "email", "active")


def directory_people() -> list[PersonFacts]:
    """The whole people directory, as the owner matching reads it."""
    return [PersonFacts(*row) for row in Person.objects.values_list(*PERSON_FIELDS)]


def directory_loaded() -> bool:
    return Person.objects.exists()


def people_index_for(*, account: AwsAccount, standard: NamingStandard | None = None) -> PeopleIndex | None:
    """Who owns which user of this account; None when no people directory is loaded (the owner checks stay silent)."""
    people = directory_people()
    if not people:
        return None
    if standard is None:
        standard = account_standard(account=account)
    links = [
        (link.user_name, person_facts(link.person)) for link in OwnerLink.objects.filter(account=account).select_related("person")
    ]
    return people_index(
        people,
        preset=standard.preset if standard else "",
        company_initials=standard.company_initials if standard else "",
        links=links,
    )
