"""A deterministic generator of credential reports in the real AWS format, for the demo and benchmarks.

It simulates an account's IAM users over time (people joining and leaving, MFA switched on late,
keys rotated or forgotten, console logins, shared logins, the odd root use) and renders the report
AWS would return on any given day. Pure: no ORM, no clock.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from audits.report import COLUMNS, ROOT_USER

_SYLLABLES = (
    "al",
    "an",
    "ar",
    "ber",
    "bo",
    "car",
    "da",
    "del",
    "den",
    "er",
    "fa",
    "gar",
    "ha",
    "ken",
    "lan",
    "ler",
    "lo",
    "ma",
    "mer",
    "mo",
    "na",
    "nel",
    "no",
    "ra",
    "ri",
    "ro",
    "sa",
    "son",
    "ta",
    "ter",
    "to",
    "ver",
    "vin",
    "wa",
    "win",
)
# Names a careful reviewer should catch: shared logins and service users outside the standard.
_SHARED = ("networkAdmin", "DbaAdmin", "AccountsAdmin", "opsTeam", "ci-deploy", "backup-svc")
_DAY = timedelta(days=1)
_ROOT_CREATED = datetime.fromisoformat("2015-06-01T12:00:00+00:00")


def _every(start: datetime, period_days: int | None, at: datetime) -> datetime | None:
    """The last tick of a schedule that starts at `start` and repeats every `period_days`, at or before `at`."""
    if period_days is None or at < start:
        return None
    ticks = (at - start) // timedelta(days=period_days)
    return start + ticks * timedelta(days=period_days)


@dataclass(frozen=True, slots=True)
class SimUser:
    name: str
    path: str
    created: datetime
    deleted: datetime | None
    password: bool
    login_every: int | None  # days between console logins; None: never logs in
    mfa_from: datetime | None
    key_created: datetime | None
    key_rotate_every: int | None
    key_use_every: int | None
    second_key: bool

    def exists(self, at: datetime) -> bool:
        return self.created <= at and (self.deleted is None or at < self.deleted)


@dataclass(slots=True)
class SimAccount:
    account_id: str
    users: list[SimUser] = field(default_factory=list)
    root_created: datetime = _ROOT_CREATED
    root_uses: list[datetime] = field(default_factory=list)
    root_mfa: bool = True

    def report(self, at: datetime) -> bytes:
        """The credential report this account would produce at `at` (CSV bytes, real AWS format)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerow(self._root_row(at))
        for user in self.users:
            if user.exists(at):
                writer.writerow(self._user_row(user, at))
        return out.getvalue().encode()

    def _root_row(self, at: datetime) -> list[str]:
        used = [t for t in self.root_uses if t <= at]
        last = _iso(max(used)) if used else "no_information"
        return [
            ROOT_USER, f"arn:aws:iam::{self.account_id}:root", _iso(self.root_created), "not_supported", last,
            "not_supported", "not_supported", _bool(self.root_mfa), "false", "N/A", "N/A", "N/A", "N/A",
            "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A",
        ]  # fmt: skip

    def _user_row(self, u: SimUser, at: datetime) -> list[str]:
        login = _every(u.created + timedelta(hours=9), u.login_every, at) if u.password else None
        mfa = u.mfa_from is not None and u.mfa_from <= at
        keys: list[list[str]] = []
        for n in (1, 2):
            created = u.key_created if n == 1 or u.second_key else None
            if created is None or at < created:
                keys.append(["false", "N/A", "N/A", "N/A", "N/A"])
                continue
            rotated = _every(created, u.key_rotate_every, at) or created
            used = _every(rotated + timedelta(hours=3), u.key_use_every, at)
            keys.append(
                ["true", _iso(rotated), _iso(used) if used else "N/A", "eu-west-1" if used else "N/A", "s3" if used else "N/A"]
            )
        return [
            u.name, f"arn:aws:iam::{self.account_id}:user{u.path}{u.name}", _iso(u.created), _bool(u.password),
            (_iso(login) if login else "no_information") if u.password else "N/A",
            _iso(u.created) if u.password else "N/A", "N/A", _bool(mfa),
            *keys[0], *keys[1], "false", "N/A", "false", "N/A",
        ]  # fmt: skip


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _person_name(rng: random.Random, taken: set[str]) -> str:
    while True:
        last = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        name = rng.choice("ABCDEFGHJKLMNPRSTW") + last
        if name not in taken:
            taken.add(name)
            return name


def simulate_account(
    *,
    account_id: str,
    users: int,
    start: datetime,
    end: datetime,
    seed: int,
    shared: int = 3,
    root_uses: int = 3,
    names: Sequence[str] = (),
) -> SimAccount:
    """A SimAccount with `users` people (plus `shared` shared or service logins) over [start, end].

    `names` are user names to give the first people (a workforce shared between accounts); the rest are made up.
    """
    rng = random.Random(seed)  # nosec B311
    span = (end - start).days or 1
    taken: set[str] = set(names)
    given = list(names)
    sim = SimAccount(account_id=account_id, root_mfa=rng.random() > 0.2)

    def moment(lo: datetime, hi_days: int) -> datetime:
        return lo + timedelta(days=rng.randint(0, max(hi_days, 0)), hours=rng.randint(7, 18), minutes=rng.randint(0, 59))

    for _ in range(users):
        joined_before = rng.random() < 0.8
        created = moment(start - timedelta(days=900), 880) if joined_before else moment(start, span)
        leaves = rng.random() < 0.08
        password = rng.random() < 0.85
        sim.users.append(
            SimUser(
                name=given.pop(0) if given else _person_name(rng, taken),
                path="/",
                created=created,
                deleted=moment(start, span) if leaves and created < end - 10 * _DAY else None,
                password=password,
                login_every=rng.choice([1, 1, 2, 3, 7, 14, None]) if password else None,
                mfa_from=None if rng.random() < 0.1 else created + timedelta(days=rng.choice([0, 0, 1, 30, 120])),
                key_created=created + timedelta(days=rng.randint(0, 30)) if rng.random() < 0.4 else None,
                key_rotate_every=rng.choice([60, 85, 180, None]),
                key_use_every=rng.choice([1, 1, 7, 60, None]),
                second_key=rng.random() < 0.05,
            )
        )
    for name in _SHARED[:shared]:
        service = "-" in name
        created = moment(start - timedelta(days=1500), 600)
        sim.users.append(
            SimUser(
                name=name,
                path="/service/" if service else "/",
                created=created,
                deleted=None,
                password=not service,
                login_every=None if service else rng.choice([1, 5]),
                mfa_from=None,
                key_created=created,
                key_rotate_every=None,
                key_use_every=1,
                second_key=name == "DbaAdmin",
            )
        )
    sim.root_uses = sorted(moment(start, span) for _ in range(root_uses))
    return sim


def daily_times(*, end: datetime, days: int) -> list[datetime]:
    """Report times for `days` daily runs ending at `end`, oldest first."""
    return [end - timedelta(days=days - 1 - i) for i in range(days)]


_FIRST_NAMES = {
    "A": "Alice", "B": "Bruno", "C": "Chloe", "D": "Dmitri", "E": "Elena", "F": "Farah", "G": "Grace", "H": "Hugo",
    "J": "Jonas", "K": "Keiko", "L": "Lena", "M": "Marco", "N": "Nadia", "P": "Priya", "R": "Rafael", "S": "Sofia",
    "T": "Tariq", "W": "Wanda",
}  # fmt: skip


def workforce(*, size: int, seed: int) -> list[str]:
    """User names (initial + last name) of a workforce, to share between simulated accounts."""
    rng = random.Random(seed)  # nosec B311
    taken: set[str] = set()
    return [_person_name(rng, taken) for _ in range(size)]


def demo_directory(sims: Sequence[SimAccount], *, at: datetime, seed: int) -> bytes:
    """The HR export behind simulated accounts: a person per person-named user (not the shared logins).

    People whose users were deleted have left; a few leavers still have users (user.owner_departed) and a
    few people are missing from HR altogether (user.no_owner), as in real directories.
    """
    rng = random.Random(seed)  # nosec B311
    people: dict[str, bool] = {}
    for sim in sims:
        for user in sim.users:
            if user.name in _SHARED:
                continue
            gone = user.deleted is not None and user.deleted <= at
            people[user.name] = people.get(user.name, False) or not gone
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("employee_id", "first_name", "last_name", "email", "active"))
    for number, (name, active) in enumerate(sorted(people.items()), start=1000):
        roll = rng.random()
        if roll < 0.04:
            continue  # not in HR: a contractor nobody registered
        if roll < 0.08:
            active = False  # left, but the user is still there
        first, last = _FIRST_NAMES.get(name[0], name[0]), name[1:]
        writer.writerow((str(number), first, last, f"{first}.{last}@example.com".lower(), "true" if active else "false"))
    return out.getvalue().encode()
