"""The docs cannot drift from the code (issue 18; datasette's tests/test_docs.py is the pattern):
every setting, every environment variable the code reads, every JSON API route, every command and
every module is named in docs/. `make lint` also checks that docs/cli.md's generated reference is
current (scripts/cli_docs.py --check)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from paperradar.config import SETTINGS
from paperradar.storage import open_library
from paperradar.web import create_app

ROOT = Path(__file__).parents[1]
SRC = ROOT / "src" / "paperradar"
DOCS = ROOT / "docs"


def doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def reference_docs() -> str:
    """The reference pages (the changelog and measurement pages do not count as documentation)."""
    skip = {"changelog.md", "benchmarks.md", "evaluation.md"}
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")) if p.name not in skip)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_documented(name):
    setting = SETTINGS[name]
    assert f"`{setting.name}`" in doc("cli.md") and f"`{setting.env}`" in doc("cli.md")


def env_vars_read_by_the_code() -> set[str]:
    found = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(
            re.findall(r"(?:environ(?:\.get)?\(|environ\[|envvar=)\s*\"(PAPERRADAR_[A-Z_]+)\"", text)
        )
    return found


def test_every_environment_variable_the_code_reads_is_documented():
    read = env_vars_read_by_the_code()
    assert {"PAPERRADAR_DB", "PAPERRADAR_MODELS"} <= read  # the scan finds what it should
    missing = sorted(v for v in read if f"`{v}`" not in doc("cli.md"))
    assert not missing, f"not in docs/cli.md: {missing}"


def api_routes(tmp_path) -> list[tuple[str, str]]:
    path = str(tmp_path / "lib.db")
    open_library(path).close()
    schema = create_app(path).openapi()
    return [(method.upper(), route) for route, ops in schema["paths"].items() for method in ops]


def documented(route: str, text: str) -> bool:
    """`/api/papers/{ref}` is documented as `/api/papers/{id}` too: a placeholder matches any name."""
    pattern = r"[^\s`)|]*?".join(re.escape(part) for part in re.split(r"\{[^}]*\}", route))
    return re.search(pattern + r"(?![\w/.])", text) is not None


def test_every_api_route_is_documented(tmp_path):
    routes = api_routes(tmp_path)
    assert len(routes) > 30  # the schema was read
    text = reference_docs()
    missing = sorted({r for _, r in routes if not documented(r, text)})
    assert not missing, f"not in docs/ (web.md's API table, or team.md): {missing}"


def test_every_command_is_documented():
    from paperradar.cli import app, register_commands

    register_commands()
    root = typer.main.get_command(app)
    paths = [
        f"paperradar {group} {sub}".strip()
        for group, cmd in root.commands.items()
        for sub in (sorted(cmd.commands) if hasattr(cmd, "commands") else [""])
    ]
    assert "paperradar search" in paths and "paperradar papers export" in paths
    missing = [p for p in paths if f"`{p}" not in doc("cli.md")]
    assert not missing, f"not in docs/cli.md (run scripts/cli_docs.py): {missing}"


def test_the_architecture_page_maps_every_module():
    text = doc("architecture.md")
    names = {p.stem for p in SRC.glob("*.py") if p.stem != "__init__"}
    names |= {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert len(names) > 30
    missing = sorted(n for n in names if not re.search(rf"`{re.escape(n)}(?:\.py|/)", text))
    assert not missing, f"docs/architecture.md's module map lacks: {missing}"


def test_docs_link_to_pages_that_exist():
    for page in DOCS.glob("*.md"):
        for target in re.findall(r"\]\(([\w-]+\.md)(?:#[\w-]*)?\)", page.read_text(encoding="utf-8")):
            assert (DOCS / target).is_file(), f"{page.name} links to a missing {target}"
