"""The layering rules of docs/architecture.md, read from the source with `ast` (no imports run):
the CLI and the web call services, never storage modules; nobody reaches into another module's
`_private` names; orchestration (the import loop, watch's run) lives in one service, not in a
Typer command. The known exceptions are listed by name; the lists may only shrink."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "paperradar"

# cli/ and web/ modules that still import a storage module directly (to be moved behind services).
STORAGE_IMPORTS_LEFT: set[tuple[str, str]] = set()
# (importing module, private name) pairs that cross a package boundary, still to be made public.
PRIVATE_IMPORTS_LEFT: set[tuple[str, str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def package_of(path: Path) -> str:
    name = module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom reads from."""
    if node.level == 0:
        return node.module or ""
    base = package_of(path).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def sources() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def imported(path: Path, tree: ast.Module) -> Iterator[str]:
    """Every dotted name a module imports, in any function: `pkg.mod` and `pkg.mod.name`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            origin = resolve(path, node)
            yield from (f"{origin}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def is_private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def private_use(path: Path, tree: ast.Module) -> Iterator[str]:
    """Private names read from another package's module: imported (`from x import _y`, a private
    module `x._m` from outside x) or reached as an attribute (`fetch._get`)."""
    here = package_of(path)
    modules = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            origin = resolve(path, node)
            for a in node.names:
                modules[a.asname or a.name] = f"{origin}.{a.name}"
                yield from _crossing(here, f"{origin}.{a.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            target = modules.get(node.value.id)
            if target and target.startswith("paperradar.") and is_private(node.attr):
                yield from _crossing(here, f"{target}.{node.attr}")


def _crossing(here: str, dotted: str) -> Iterator[str]:
    """`dotted` if one of its parts is private and its owner is outside `here`'s package (a
    package's private modules and names are for that package; the root package is no package)."""
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if is_private(part):
            owner = ".".join(parts[:i])
            inside = here != "paperradar" and (owner == here or owner.startswith(here + "."))
            if not inside:
                yield ".".join(parts[: i + 1])
            return


def test_cli_and_web_reach_storage_only_through_open_library_and_the_library_type():
    allowed = (
        "paperradar.storage.open_library",
        "paperradar.storage.Library",
        "paperradar.storage.without_password",
        "paperradar.storage.is_postgres",  # a location's kind, read from its text
    )
    found, fine = set(), set()
    for path, tree in sources():
        name = module_name(path)
        if not name.startswith(("paperradar.cli", "paperradar.web")):
            continue
        for dotted in imported(path, tree):
            if dotted in allowed:
                fine.add(name)
            elif dotted.startswith("paperradar.storage."):
                module = ".".join(dotted.split(".")[:3])
                found.add((name, module))
    assert fine, "the scan found no storage import at all: it is reading the wrong files"
    assert found - STORAGE_IMPORTS_LEFT == set(), "new storage imports in cli/ or web/: call a service"
    assert STORAGE_IMPORTS_LEFT - found == set(), "fixed: remove these from STORAGE_IMPORTS_LEFT"


def test_no_module_uses_another_packages_private_names():
    modules = list(sources())
    assert len(modules) > 100, "the scan is reading the wrong folder"
    found = {(module_name(path), dotted) for path, tree in modules for dotted in private_use(path, tree)}
    assert found - PRIVATE_IMPORTS_LEFT == set(), "make the name public, or keep it in its package"
    assert PRIVATE_IMPORTS_LEFT - found == set(), "fixed: remove these from PRIVATE_IMPORTS_LEFT"


def test_the_scan_sees_a_private_attribute_reached_through_a_module():
    tree = ast.parse("from .. import fetch\nfetch._get()\n")
    assert list(private_use(SRC / "cli" / "x.py", tree)) == ["paperradar.fetch._get"]


def calls(tree: ast.Module) -> set[str]:
    return {
        n.func.id if isinstance(n.func, ast.Name) else n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name | ast.Attribute)
    }


def test_the_import_loop_lives_in_one_service_that_the_cli_and_the_web_call():
    for area in ("cli", "web"):
        tree = ast.parse((SRC / area / "imports.py").read_text(encoding="utf-8"))
        assert "import_sources" in calls(tree), area
        assert "import_source" not in calls(tree), f"{area} imports source by source itself"


def test_nothing_outside_the_cli_catches_or_raises_typer_exit_and_no_command_catches_it():
    for path, tree in sources():
        in_cli = module_name(path).startswith("paperradar.cli")
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                assert "Exit" not in ast.unparse(node.type), f"{path} catches typer.Exit"
            if not in_cli and isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert "typer" not in names, f"{path}: the library imports typer"
