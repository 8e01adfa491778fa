"""The people directory: a CSV export of the HR system in, people upserted by employee id, all or nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from people.models import Person
from staff.trail import record_change, record_changes

COLUMNS = ("employee_id", "first_name", "last_name", "email", "active")
MAX_BYTES = 50 * 1024 * 1024
MAX_PEOPLE = 1_000_000  # rows of one export: more is not an HR directory
MAX_ERRORS_SHOWN = 3
_TRUE = {"true", "yes", "y", "1", "active", "t"}
_FALSE = {"false", "no", "n", "0", "inactive", "f", "left", "terminated"}


class DirectoryError(ValueError):
    """A directory file that cannot be imported; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class DirectoryRow:
    line: int
    employee_id: str
    first_name: str
    last_name: str
    email: str
    active: bool


@dataclass(frozen=True, slots=True)
class DirectoryImport:
    created: int
    updated: int
    unchanged: int
    deactivated: int  # people absent from the file, now marked as left

    def summary(self) -> str:
        return (
            f"{self.created} people added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deactivated} not in the file marked inactive"
        )


def _column(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def parse_directory(content: bytes) -> list[DirectoryRow]:
    """Typed rows of a directory export, or DirectoryError naming the first bad lines."""
    if len(content) > MAX_BYTES:
        raise DirectoryError(f"the directory file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DirectoryError(f"the directory file is not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise DirectoryError("the directory file is empty; expected a header: " + ",".join(COLUMNS))
        names = [_column(c) for c in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise DirectoryError(f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
        duplicated = sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
        if duplicated:
            raise DirectoryError(f"line 1: column(s) {', '.join(duplicated)} appear twice")
        where = {c: names.index(c) for c in COLUMNS}
        rows: list[DirectoryRow] = []
        errors: list[str] = []
        first_line: dict[str, int] = {}
        for count, record in enumerate(reader, start=1):
            if count > MAX_PEOPLE:
                raise DirectoryError(f"more than {MAX_PEOPLE:,} rows: not one HR export")
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                errors.append(f"line {line}: {len(record)} fields, the header has {len(header)}")
                continue
            values = {c: record[i].strip() for c, i in where.items()}
            problem = _row_problem(values, first_line, line)
            if problem:
                errors.append(f"line {line}: {problem}")
                continue
            first_line[values["employee_id"].casefold()] = line
            rows.append(
                DirectoryRow(
                    line=line,
                    employee_id=values["employee_id"],
                    first_name=values["first_name"],
                    last_name=values["last_name"],
                    email=values["email"],
                    active=values["active"].lower() in _TRUE,
                )
            )
    except csv.Error as exc:
        raise DirectoryError(f"line {reader.line_num}: not a CSV file ({exc})") from None
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more bad rows)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise DirectoryError("; ".join(errors[:MAX_ERRORS_SHOWN]) + more + "; nothing imported")
    if not rows:
        raise DirectoryError("the directory file has no people; refusing to mark everybody as left")
    return rows


def _row_problem(values: dict[str, str], first_line: dict[str, int], line: int) -> str:
    if any("\x00" in v for v in values.values()):
        return "a NUL character (no database stores it)"
    employee_id = values["employee_id"]
    if not employee_id:
        return "employee_id is empty"
    if len(employee_id) > 64:
        return "employee_id is longer than 64 characters"
    if employee_id.casefold() in first_line:
        return f"employee id {employee_id} appears twice (also on line {first_line[employee_id.casefold()]})"
    for name in ("first_name", "last_name"):
        if not values[name]:
            return f"{name} is empty for employee {employee_id}"
        if len(values[name]) > 100:
            return f"{name} is longer than 100 characters"
    if len(values["email"]) > 254:
        return "email is longer than 254 characters"
    if values["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            return f"{values['email']!r} is not an e-mail address"
    if values["active"].lower() not in _TRUE | _FALSE:
        return f"active must be true or false (or yes/no, 1/0), not {values['active']!r}"
    return ""


_FIELDS = ("first_name", "last_name", "email", "active")


@transaction.atomic
def directory_import(*, content: bytes, actor: str) -> DirectoryImport:
    """Upsert the people of a directory export by employee id; people absent from it are marked as left.

    Raises DirectoryError (storing nothing) on any bad row. Every change is recorded in the audit trail.
    """
    rows = parse_directory(content)
    existing = {p.employee_id.casefold(): p for p in Person.objects.select_for_update()}
    created: list[Person] = []
    changed: list[tuple[Person, dict[str, object]]] = []
    seen: set[str] = set()
    for row in rows:
        key = row.employee_id.casefold()
        seen.add(key)
        wanted = {"first_name": row.first_name, "last_name": row.last_name, "email": row.email, "active": row.active}
        person = existing.get(key)
        if person is None:
            created.append(Person(employee_id=row.employee_id, **wanted))
            continue
        before = {f: getattr(person, f) for f in _FIELDS}
        if before != wanted:
            for f, v in wanted.items():
                setattr(person, f, v)
            changed.append((person, before))
    left = [p for key, p in existing.items() if key not in seen and p.active]
    for person in left:
        changed.append((person, {f: getattr(person, f) for f in _FIELDS}))
        person.active = False
    now = timezone.now()
    for person in created:
        person.left_at = None if person.active else now
    for person, before in changed:  # the time of the import that first said they left; back: no longer left
        if before["active"] and not person.active:
            person.left_at = now
        elif person.active:
            person.left_at = None
    Person.objects.bulk_create(created, batch_size=1000)
    Person.objects.bulk_update([p for p, _ in changed], [*_FIELDS, "left_at"], batch_size=1000)
    record_changes(
        actor,
        [
            *(("person.added", f"person {p.employee_id}", None, _values(p)) for p in created),
            *(("person.changed", f"person {p.employee_id}", before, _values(p)) for p, before in changed),
        ],
    )
    updated = len(changed) - len(left)
    result = DirectoryImport(
        created=len(created), updated=updated, unchanged=len(rows) - len(created) - updated, deactivated=len(left)
    )
    record_change(actor=actor, action="people_directory.imported", target="people directory", after={"summary": result.summary()})
    return result


def _values(person: Person) -> dict[str, object]:
    return {f: getattr(person, f) for f in _FIELDS}
