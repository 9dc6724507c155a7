"""The docs cannot drift from the code (issue 18; datasette's tests/test_docs.py is the pattern):
every setting, every environment variable the code reads, every JSON API route, every command and
every module is named in docs/. `make lint` also checks that docs/cli.md's generated reference is
current (scripts/cli_docs.py --check)."""

from __future__ import annotations

import re
import sys
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
    read = env_vars_read_by_the_code() | {s.env for s in SETTINGS.values()}
    assert {
        "PAPERRADAR_DB",
        "PAPERRADAR_MODELS",
        "PAPERRADAR_NO_WORKER",
    } <= read  # the scan finds what it should
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
    missing = sorted(f"{method} {r}" for method, r in routes if not documented(f"{method} {r}", text))
    assert not missing, f"not in docs/ with its method (web.md's API table, or team.md): {missing}"


def test_every_documented_api_route_exists(tmp_path):
    """The other way round: a route the docs name (`GET /api/...`) is one the app serves."""
    routes = api_routes(tmp_path)
    said = set(re.findall(r"\b(GET|POST|PUT|DELETE) (/api/[^\s`|?)\],]*)", reference_docs()))
    assert len(said) > 30  # the docs were read

    def served(method: str, path: str) -> bool:
        return any(m == method and re.fullmatch(pattern(r), path) for m, r in routes)

    unknown = sorted(f"{m} {p}" for m, p in said if not served(m, p))
    assert not unknown, f"docs/ names API routes the app does not serve: {unknown}"


def pattern(route: str) -> str:
    """`/api/papers/{ref}` matches `/api/papers/{id}`, `/api/papers/NAME` and `/api/papers/x`."""
    return r"[^/]+".join(re.escape(part) for part in re.split(r"\{[^}]*\}", route))


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


def test_the_importer_recipe_is_enough_to_add_a_format(tmp_path, monkeypatch):
    """docs/architecture.md's "Add an importer", followed literally: a module with NAME, detect and
    parse, its name added to IMPORTERS; auto-detection, the import report and a bad line's
    rejection then work with no other change."""
    import types

    from paperradar import importers
    from paperradar.errors import ParseError
    from paperradar.importers.base import Source
    from paperradar.ingest import import_source
    from paperradar.models import Record, SourceRef

    def detect(head: str, name: str) -> int:
        return 90 if head.startswith("# doi list") else 0

    def parse(source: Source):
        for line, text in source.lines():
            if text.startswith("#") or not text.strip():
                continue
            doi, _, title = text.partition("\t")
            if not doi.startswith("10.") or not title:
                yield ParseError(source.path, line, "want DOI<TAB>title")
                continue
            yield Record(SourceRef("doi_list", source.path, line), ids=[f"doi:{doi}"], title=title)

    module = types.ModuleType("paperradar.importers.doi_list")
    module.NAME, module.detect, module.parse = "doi_list", detect, parse  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(importers, "IMPORTERS", (*importers.IMPORTERS, "doi_list"))
    listing = tmp_path / "reading.txt"
    listing.write_text(
        "# doi list\n10.1000/a\tKV cache compression\nnot a doi\n10.1000/b\tSparse attention\n"
    )
    lib = open_library(str(tmp_path / "lib.db"))
    try:
        report = import_source(lib, Source.from_file(listing))
    finally:
        lib.close()
    assert (report.importer, report.read, report.new) == ("doi_list", 2, 2)
    assert [(e.line, e.reason) for e in report.rejected] == [(3, "want DOI<TAB>title")]
