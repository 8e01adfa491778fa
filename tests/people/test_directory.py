"""The people directory import: upsert by employee id, leavers marked, bad rows refused whole, changes recorded."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from people.directory import DirectoryError, directory_import
from people.models import Person
from staff.models import ChangeRecord

pytestmark = pytest.mark.django_db

HEADER = "employee_id,first_name,last_name,email,active\n"
GOOD = HEADER + "1234,John,Smith,john.smith@example.com,true\n77,Anna,White,,false\n"


def people() -> list[tuple[str, str, bool]]:
    return sorted(Person.objects.values_list("employee_id", "last_name", "active"))


def test_a_directory_export_becomes_people() -> None:
    result = directory_import(content=GOOD.encode(), actor="alice")
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (2, 0, 0, 0)
    assert people() == [("1234", "Smith", True), ("77", "White", False)]


def test_reimporting_the_same_file_changes_nothing_and_duplicates_nobody() -> None:
    directory_import(content=GOOD.encode(), actor="alice")
    records = ChangeRecord.objects.count()
    result = directory_import(content=GOOD.encode(), actor="alice")
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (0, 0, 2, 0)
    assert Person.objects.count() == 2
    assert ChangeRecord.objects.count() == records + 1  # the import itself, no person changed


def test_a_reimport_updates_people_and_marks_those_absent_as_left() -> None:
    directory_import(content=GOOD.encode(), actor="alice")
    result = directory_import(content=(HEADER + "1234,John,Smith-Jones,john.smith@example.com,yes\n").encode(), actor="bob")
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (0, 1, 0, 0)
    directory_import(content=(HEADER + "77,Anna,White,,1\n").encode(), actor="bob")
    assert people() == [("1234", "Smith-Jones", False), ("77", "White", True)]
    change = ChangeRecord.objects.filter(action="person.changed", target="person 1234").first()
    assert change is not None and change.actor == "bob"
    assert change.before == {"first_name": "John", "last_name": "Smith-Jones", "email": "john.smith@example.com", "active": True}
    assert change.after is not None and change.after["active"] is False


def test_headers_from_spreadsheets_are_understood() -> None:
    content = "\ufeffEmployee ID,First Name,Last Name,E-mail,Active,Department\r\n1234,John,Smith,,Active,IT\r\n"
    content = content.replace("E-mail", "Email")
    directory_import(content=content.encode(), actor="alice")
    assert people() == [("1234", "Smith", True)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the directory file is empty"),
        (HEADER.encode(), "has no people"),
        (b"employee_id,first_name,last_name,active\n1,A,B,true\n", "line 1: missing column(s) email"),
        (b"employee_id,employee_id,first_name,last_name,email,active\n", "appear twice"),
        ((HEADER + ",John,Smith,,true\n").encode(), "line 2: employee_id is empty"),
        ((HEADER + "1,John,,,true\n").encode(), "line 2: last_name is empty for employee 1"),
        ((HEADER + "1,John,Smith,not-an-email,true\n").encode(), "line 2: 'not-an-email' is not an e-mail address"),
        ((HEADER + "1,John,Smith,,maybe\n").encode(), "line 2: active must be true or false"),
        ((HEADER + "1,John,Smith,,true\n1,Jane,Smith,,true\n").encode(), "line 3: employee id 1 appears twice (also on line 2)"),
        ((HEADER + "1,John,Smith,true\n").encode(), "line 2: 4 fields, the header has 5"),
        (b"\xff\xfe\x00e", "not UTF-8 text"),
        ((HEADER + '1,"John,Smith,,true\n').encode(), "not a CSV file"),
        # What PostgreSQL refuses, refused first (issue 28: nothing half-stored, no DataError).
        ((HEADER + "1,Jo\x00hn,Smith,,true\n").encode(), "line 2: a NUL character (no database stores it)"),
        ((HEADER + f"1,John,Smith,{'j' * 64}@{'e' * 190}.example.com,true\n").encode(), "line 2: email is longer than 254 characters"),
    ],
)
def test_a_bad_file_is_refused_with_one_line_and_nothing_changes(content: bytes, message: str) -> None:
    directory_import(content=GOOD.encode(), actor="alice")
    before, records = people(), ChangeRecord.objects.count()
    with pytest.raises(DirectoryError) as caught:
        directory_import(content=content, actor="alice")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert people() == before and ChangeRecord.objects.count() == records


def test_many_bad_rows_are_counted_not_all_listed() -> None:
    content = HEADER + "".join(f"{i},John,Smith,,perhaps\n" for i in range(10))
    with pytest.raises(DirectoryError, match=r"line 2: .*line 3: .*line 4: .* \(and 7 more bad rows\); nothing imported"):
        directory_import(content=content.encode(), actor="alice")
    assert Person.objects.count() == 0


def test_the_command_imports_and_reports_bad_files_on_one_line(tmp_path: Path) -> None:
    good, bad = tmp_path / "hr.csv", tmp_path / "bad.csv"
    good.write_text(GOOD)
    bad.write_text(HEADER + "1,John,Smith,,maybe\n")
    out = StringIO()
    call_command("import_people", str(good), stdout=out)
    assert out.getvalue().strip() == "2 people added, 0 updated, 0 unchanged, 0 not in the file marked inactive"
    with pytest.raises(CommandError, match=r"^bad.csv: line 2: active must be true or false"):
        call_command("import_people", str(bad))
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_people", str(tmp_path / "missing.csv"))
    assert ChangeRecord.objects.filter(actor="manage.py import_people", action="person.added").count() == 2


def test_a_change_record_can_be_neither_edited_nor_deleted() -> None:
    directory_import(content=GOOD.encode(), actor="alice")
    record = ChangeRecord.objects.first()
    assert record is not None
    record.actor = "mallory"
    with pytest.raises(PermissionDenied, match="append-only"):
        record.save()
    with pytest.raises(PermissionDenied, match="append-only"):
        record.delete()
    assert ChangeRecord.objects.filter(actor="mallory").count() == 0


def test_the_database_refuses_to_rewrite_the_trail() -> None:
    from django.db import DatabaseError, connection, transaction

    directory_import(content=GOOD.encode(), actor="alice")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ChangeRecord.objects.update(actor="mallory")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ChangeRecord.objects.all().delete()
    for sql in ("UPDATE accounts_changerecord SET actor = 'mallory'", "DELETE FROM accounts_changerecord"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert not ChangeRecord.objects.filter(actor="mallory").exists() and ChangeRecord.objects.count() == 3


def test_more_rows_than_a_directory_holds_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import people.directory

    monkeypatch.setattr(people.directory, "MAX_PEOPLE", 2)
    content = HEADER + "".join(f"{i},John,Smith,,true\n" for i in range(3))
    with pytest.raises(DirectoryError, match="more than 2 rows: not one HR export"):
        directory_import(content=content.encode(), actor="alice")
    assert Person.objects.count() == 0
