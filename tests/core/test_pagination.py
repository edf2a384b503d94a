"""Cursor digests: what binds a cursor to its list must be the same in every API process."""

import subprocess
import sys

from sqlalchemy import select

from msgprofiles.core.pagination import list_digest
from msgprofiles.profiles.models import profiles

DIGEST = (
    "from sqlalchemy import select; from msgprofiles.core.pagination import list_digest; "
    "from msgprofiles.profiles.models import profiles as t; "
    "print(list_digest(select(t).where(t.c.organization_id == 'org_a', "
    "t.c.status.in_(['completed'])), 'profiles'))"
)


def digest(organization_id: str, status: str) -> str:
    statement = select(profiles).where(
        profiles.c.organization_id == organization_id, profiles.c.status.in_([status])
    )
    return list_digest(statement, "profiles")


def test_another_process_computes_the_same_digest():
    elsewhere = subprocess.run([sys.executable, "-c", DIGEST], capture_output=True, text=True)
    assert elsewhere.stdout.strip() == digest("org_a", "completed")


def test_other_filter_values_make_another_digest():
    assert digest("org_a", "completed") != digest("org_a", "rejected")
    assert digest("org_a", "completed") != digest("org_b", "completed")
