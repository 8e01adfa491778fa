"""An account's environment from the words organisations use for it (an account tag, an OU's name), through one
documented table; and the one notion of production the checks read. Pure: no Django, no AWS.

The table (README, "Environments"): each canonical environment and the words that mean it, matched as whole words
in any case, the longest that fits winning (`Prod-Workloads` is prod; `non-prod` is nonprod and `pre-prod` staging,
never prod).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

ENVIRONMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("nonprod", ("nonprod", "non-prod", "non-production", "nonproduction", "non_prod")),
    ("prod", ("prod", "production", "prd", "live", "prodn")),
    ("staging", ("staging", "stage", "stg", "preprod", "pre-prod", "preproduction", "uat")),
    ("test", ("test", "testing", "tst", "qa")),
    ("dev", ("dev", "development", "develop", "devel")),
    ("sandbox", ("sandbox", "sbx", "playground", "experiment", "experiments")),
)
PRODUCTION = "prod"
_WORD = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")


def canonical_environment(value: str) -> str:
    """The table's name for `value` ("Production" -> "prod"), or "" when no word of it is in the table."""
    text = value.strip().lower()
    if not text:
        return ""
    words = set(re.findall(r"[a-z0-9]+", text)) | set(_WORD.findall(text))
    # The longest word that means something wins: "pre-prod" is staging, though "prod" is in it.
    found = [(len(alias), name) for name, aliases in ENVIRONMENTS for alias in aliases if alias in words]
    return max(found)[1] if found else ""


def is_production(environment: str) -> bool:
    """Whether an account's environment (set by hand or from the organisation) is production."""
    return canonical_environment(environment) == PRODUCTION


def environment_from(*, tags: Mapping[str, str], ou_path: Sequence[str], tag_key: str) -> str:
    """An account's environment from its Organizations tags (the `tag_key` tag, any case), else from its OU path
    (the deepest OU whose name is in the table first); the tag's own value when the table does not know it; "" when
    neither says."""
    for key, value in tags.items():
        if key.strip().lower() == tag_key.strip().lower() and value.strip():
            return canonical_environment(value) or value.strip()[:50]
    for ou in reversed(ou_path):
        found = canonical_environment(ou)
        if found:
            return found
    return ""
