"""dashboard: the meeting's pages that compose every domain.

The agenda (overview), the account page, a finding with its review decisions, changes since the last review, the
practice, a naming standard with the users it would flag, and who has access where (a person's, an account's owners
and the fleet's). Each reads the selectors of the domain apps below it (audits, cloudtrail, identitycenter, reviews,
people, accounts, staff) and owns no model: it imports those apps, and only demo imports it. Their URLs keep the names of the domain they
show (`audits:overview`, `people:person-detail`, ...): iamwatch.urls mounts them in those namespaces.
"""

from __future__ import annotations

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard"
