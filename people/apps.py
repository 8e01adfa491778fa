"""people: the people directory and who owns which IAM user.

It owns Person (imported from the HR system's CSV export, `import_people`), OwnerLink (an IAM user tied to
its owner by hand), the pure owner matching (people.matching: a user name under a naming standard, an
e-mail, or a link, to one person or none), the directory page and the owner links. It imports staff and
accounts; the pages that list IAM users by person (a person's access, an account's owners) are the dashboard's.
"""

from __future__ import annotations

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = "People"
