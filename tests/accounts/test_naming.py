"""Naming-standard presets against the practice's table (John Smith, employee 1234, company SF)."""

from __future__ import annotations

import pytest

from accounts.naming import PRESET_EXAMPLES, NamingRuleError, Preset, compile_rule, name_words, shared_words

PRACTICE = {
    "initials_employee_id": "JS1234",
    "first_underscore_last": "John_Smith",
    "initial_lastname": "JSmith",
    "company_employee_id": "SF1234",
}


@pytest.mark.parametrize("preset", sorted(PRACTICE))
@pytest.mark.parametrize("name", sorted(PRACTICE.values()))
def test_each_preset_accepts_its_own_example_and_no_other(preset: str, name: str) -> None:
    rule = compile_rule(preset, company_initials="SF")
    # SF1234 is also two capital initials and digits: the two id presets cannot tell them apart.
    ambiguous = preset == "initials_employee_id" and name == "SF1234"
    assert rule.fits(name) is (PRACTICE[preset] == name or ambiguous)


@pytest.mark.parametrize(
    ("preset", "name"),
    [
        ("initials_employee_id", "J1234"), ("initials_employee_id", "JSM1234"), ("initials_employee_id", "js1234"), ("initials_employee_id", "JS"),
        ("first_underscore_last", "john_smith"), ("first_underscore_last", "John-Smith"), ("first_underscore_last", "John_"), ("first_underscore_last", "John_Smith_2"),
        ("initial_lastname", "Jsmith"), ("initial_lastname", "JSmith1"), ("initial_lastname", "J_Smith"), ("initial_lastname", "JSMITH"),
        ("company_employee_id", "SX1234"), ("company_employee_id", "sf1234"), ("company_employee_id", "SF"), ("company_employee_id", "SF12a"),
    ],
)  # fmt: skip
def test_names_that_nearly_fit_do_not(preset: str, name: str) -> None:
    assert not compile_rule(preset, company_initials="SF").fits(name)


@pytest.mark.parametrize("name", ["=JSmith", "JSmith+admin", "J.Smith", "JSmith@corp", "J,Smith", "-JSmith", "JS-mith"])
def test_iam_special_characters_never_fit_a_preset(name: str) -> None:
    assert not any(compile_rule(p, company_initials="SF").fits(name) for p in PRACTICE)


def test_hyphenated_last_names_fit_the_name_presets() -> None:
    assert compile_rule("initial_lastname").fits("JSmith-Jones")
    assert compile_rule("first_underscore_last").fits("Mary_Smith-Jones")


def test_a_custom_regex_must_match_the_whole_name() -> None:
    rule = compile_rule("custom", custom_regex=r"[a-z]+\.[a-z]+")
    assert rule.fits("john.smith") and not rule.fits("john.smith.admin")


@pytest.mark.parametrize(
    ("preset", "kwargs", "message"),
    [
        ("custom", {"custom_regex": "("}, "invalid regular expression"),
        ("custom", {}, "needs a regular expression"),
        ("company_employee_id", {}, "company's initials"),
        ("company_employee_id", {"company_initials": "S1"}, "company's initials"),
        ("nickname", {}, "unknown naming preset"),
    ],
)
def test_a_standard_that_cannot_be_built_says_why(preset: str, kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(NamingRuleError, match=message):
        compile_rule(preset, **kwargs)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("networkAdmin", ["network", "admin"]),
        ("DbaAdmin", ["dba", "admin"]),
        ("ci-deploy", ["ci", "deploy"]),
        ("AWSAdmin", ["aws", "admin"]),
        ("JSmith", ["j", "smith"]),
    ],
)
def test_names_split_into_words_at_separators_and_humps(name: str, words: list[str]) -> None:
    assert name_words(name) == words


def test_shared_words_name_the_words_that_fired() -> None:
    assert shared_words("AccountsAdmin") == ["accounts", "admin"]
    assert shared_words("JSmith") == []


@pytest.mark.parametrize("preset", ["initials_employee_id", "first_underscore_last", "initial_lastname", "company_employee_id"])
def test_a_preset_answers_as_re2_would_on_any_iam_name(preset: str) -> None:
    """Presets match with Python's re (speed); a custom regex with RE2 (linear time). The two engines must agree on
    every preset, on names made of IAM's alphabet, near misses included."""
    import re2
    from hypothesis import given, settings
    from hypothesis import strategies as st

    rule = compile_rule(preset, company_initials="SF")
    twin = re2.compile(rule.pattern.pattern)
    iam_names = st.text(alphabet="ASFJmith_-0123456789+=,.@ ", min_size=1, max_size=64)

    @settings(max_examples=400, deadline=None)
    @given(iam_names)
    def agree(name: str) -> None:
        assert rule.fits(name) == (twin.fullmatch(name) is not None), name

    agree()
    assert rule.fits(PRESET_EXAMPLES[Preset(preset)].format(company="SF"))

