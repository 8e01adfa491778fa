"""Which person owns which IAM user: the practice's naming table, IAM's characters, e-mail names, links, ambiguity."""

from __future__ import annotations

import pytest

from people.matching import PersonFacts, people_index, standard_name

JOHN = PersonFacts(1, "1234", "John", "Smith", "john.smith@example.com", True)
JANE = PersonFacts(2, "1240", "Jane", "Smith", "jane.smith@example.com", True)
ANNA = PersonFacts(3, "77", "Anna", "White", "", False)
PRACTICE = {
    "initials_employee_id": "JS1234",
    "first_underscore_last": "John_Smith",
    "initial_lastname": "JSmith",
    "company_employee_id": "SF1234",
}


@pytest.mark.parametrize(("preset", "name"), sorted(PRACTICE.items()))
def test_each_preset_names_john_smith_as_the_practice_table_does(preset: str, name: str) -> None:
    assert standard_name(JOHN, preset, "SF") == name


@pytest.mark.parametrize("preset", sorted(PRACTICE))
def test_under_each_preset_only_its_own_name_maps_to_john_smith(preset: str) -> None:
    index = people_index([JOHN, ANNA], preset=preset, company_initials="SF")
    for other_preset, name in PRACTICE.items():
        owners = index.resolve(name)
        assert [o.person_id for o in owners] == ([1] if other_preset == preset else []), name


@pytest.mark.parametrize(
    ("preset", "name"),
    [
        ("initials_employee_id", "JS12345"), ("initials_employee_id", "JS123"), ("initials_employee_id", "JSM1234"),
        ("first_underscore_last", "John_Smith2"), ("first_underscore_last", "John.Smith"), ("first_underscore_last", "JohnSmith"),
        ("initial_lastname", "JSmiths"), ("initial_lastname", "JSmith-admin"), ("initial_lastname", "JohnSmith"),
        ("company_employee_id", "SF12345"), ("company_employee_id", "SX1234"), ("company_employee_id", "SF-1234"),
    ],
)  # fmt: skip
def test_names_that_nearly_fit_map_to_nobody(preset: str, name: str) -> None:
    assert people_index([JOHN], preset=preset, company_initials="SF").resolve(name) == ()


def test_iam_names_compare_case_insensitively() -> None:
    index = people_index([JOHN], preset="initial_lastname")
    assert [o.person_id for o in index.resolve("jsmith")] == [1]
    assert [o.person_id for o in index.resolve("JSMITH")] == [1]


@pytest.mark.parametrize(
    ("first", "last", "preset", "expected"),
    [
        ("Seán", "O'Neil", "first_underscore_last", "Sean_ONeil"),
        ("Mary Ann", "Smith-Jones", "first_underscore_last", "MaryAnn_Smith-Jones"),
        ("Zoë", "Lévy", "initial_lastname", "ZLevy"),
        ("Mary Ann", "van der Berg", "initial_lastname", "MvanderBerg"),
    ],
)
def test_derived_names_keep_to_the_characters_iam_allows(first: str, last: str, preset: str, expected: str) -> None:
    person = PersonFacts(9, "9", first, last, "", True)
    name = standard_name(person, preset)
    assert name == expected
    assert all(c.isascii() and (c.isalnum() or c in "+=,.@_-") for c in name)


@pytest.mark.parametrize(("first", "last"), [("Łukasz", "Żak"), ("Jürgen", "Groß"), ("Иван", "Petrov")])
def test_a_name_with_a_letter_that_has_no_ascii_form_maps_by_email_or_by_hand_only(first: str, last: str) -> None:
    person = PersonFacts(9, "9", first, last, "lz@example.com", True)
    assert all(standard_name(person, preset, "SF") in ("", "SF9") for preset in PRACTICE)
    assert people_index([person], preset="initial_lastname").resolve("ZZak") == ()


@pytest.mark.parametrize("user_name", ["john.smith@example.com", "John.Smith@Example.com"])
def test_a_user_named_after_the_persons_email_maps_to_them_under_any_standard(user_name: str) -> None:
    for preset in (*PRACTICE, "custom"):
        assert [o.how for o in people_index([JOHN], preset=preset, company_initials="SF").resolve(user_name)] == ["by e-mail"]


def test_a_directory_email_in_capitals_still_maps_a_user_named_after_it() -> None:
    """Issue 30 point 8, the IAM side: the directory's spelling of the address is not the user name's either."""
    person = PersonFacts(6, "6", "John", "Smith", "John.Smith@Example.COM", False)
    assert [o.how for o in people_index([person], preset="custom").resolve("john.smith@example.com")] == ["by e-mail"]


def test_an_email_with_iam_special_characters_maps() -> None:
    person = PersonFacts(5, "5", "Bo", "Li", "bo.li+aws=ops@example.com", True)
    assert people_index([person], preset="custom").resolve("bo.li+aws=ops@example.com")[0].person_id == 5


def test_a_custom_standard_maps_nobody_by_rule() -> None:
    index = people_index([JOHN], preset="custom")
    assert index.resolve("JSmith") == () and index.resolve("John_Smith") == ()


def test_a_name_that_fits_two_people_is_ambiguous() -> None:
    owners = people_index([JOHN, JANE], preset="initial_lastname").resolve("JSmith")
    assert sorted(o.employee_id for o in owners) == ["1234", "1240"]


def test_a_link_by_hand_wins_over_the_standard_and_settles_ambiguity() -> None:
    index = people_index([JOHN, JANE], preset="initial_lastname", links=[("jsmith", JANE), ("ci-deploy", JOHN)])
    assert [(o.employee_id, o.how) for o in index.resolve("JSmith")] == [("1240", "linked by hand")]
    assert [o.employee_id for o in index.resolve("ci-deploy")] == ["1234"]


def test_an_inactive_person_still_owns_their_users() -> None:
    owners = people_index([ANNA], preset="initial_lastname").resolve("AWhite")
    assert len(owners) == 1 and owners[0].active is False


def test_the_company_preset_without_initials_names_nobody() -> None:
    assert standard_name(JOHN, "company_employee_id", "") == ""
