"""Who may import whom (DESIGN.md, "Layers and layout"), checked on the source: a layer that
reaches past its neighbours fails here, not in a review."""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).parent.parent / "src" / "msgprofiles"
DOMAINS = {
    "organizations",
    "api_keys",
    "profiles",
    "brands",
    "campaigns",
    "numbers",
    "webhooks",
    "customers",
    "whatsapp",
    "contacts",
}


def imports(package: str) -> dict[str, set[str]]:
    """Each module of the package: the msgprofiles modules it imports."""
    found = {}
    for path in (SOURCE / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
        found[str(path.relative_to(SOURCE))] = {n for n in names if n.startswith("msgprofiles.")}
    return found


def top(name: str) -> str:
    return name.split(".")[1]


# Alembic's environment loads every table to compare them with the database: its job.
MIGRATIONS_ENV = "db/migrations/env.py"


def offending(package: str, forbidden: set[str]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, names in imports(package).items()
        for name in names
        if top(name) in forbidden - {package} and module != MIGRATIONS_ENV
    )


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_a_domain_imports_no_workflow_dialect_or_dashboard(domain):
    assert offending(domain, {"workflows", "dialects", "dashboard"}) == []


def test_core_jobs_and_providers_import_no_domain():
    layers = DOMAINS | {"workflows", "dialects", "dashboard"}
    for package in ("core", "jobs", "providers", "db"):
        assert offending(package, layers) == [], package


def test_dialects_reach_data_only_through_services():
    touching = [
        f"{module} imports {name}"
        for module, names in imports("dialects").items()
        for name in names
        if top(name) in {"db", "providers", "jobs"} or name.split(".")[-1] == "models"
    ]
    assert touching == []


def test_workflows_use_domain_services_not_their_tables():
    tables = [
        f"{module} imports {name}"
        for module, names in imports("workflows").items()
        for name in names
        if top(name) in DOMAINS and ".models" in name
    ]
    assert tables == []
