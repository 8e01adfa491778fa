from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from people.directory import COLUMNS, DirectoryError, directory_import


class Command(BaseCommand):
    help = (
        f"Import the people directory from a CSV export of the HR system ({','.join(COLUMNS)}). "
        "Re-importable: people are matched by employee id; people absent from the file are marked as left."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV file, UTF-8")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from None
        try:
            result = directory_import(content=content, actor="manage.py import_people")
        except DirectoryError as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        self.stdout.write(result.summary())
