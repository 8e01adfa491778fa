"""people: the people directory and who owns which IAM user.

It owns Person (imported from the HR system's CSV export, `import_people`), OwnerLink (an IAM user tied to
its owner by hand), the pure owner matching (people.matching: a user name under a naming standard, an
e-mail, or a link, to one person or none), and the pages of the directory, a person's access across the
fleet ("who has access where") and an account's owners. It imports staff and accounts; its pages read the
IAM users they list through audits.selectors.
"""

from __future__ import annotations

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = "People"
