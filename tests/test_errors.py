"""Only RadarError leaves the library (issue 18, item 4): what a user can get wrong (a bad date, an
unknown tier, an empty search, a library from a newer paperradar) is an InvalidInput, which the
CLI prints as `Error: ...` and the web answers as a 400; a plain ValueError/RuntimeError is left
only where it marks a bug inside the library, and that list may only shrink."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from paperradar.embed import load_embedder
from paperradar.errors import InvalidInput, RadarError
from paperradar.models import PartialDate
from paperradar.storage import fts

SRC = Path(__file__).parents[1] / "src" / "paperradar"

# raises of a bare ValueError/RuntimeError left: each marks a bug, not the user's input
INTERNAL = {
    ("rank/reasons.py", "ValueError"),  # a Reason kind the code itself made up
    ("storage/dialect.py", "ValueError"),  # an upsert table missing from UPSERT_KEYS
    ("fetch.py", "ValueError"),  # raised and caught in the same function
    ("topics/space.py", "ValueError"),  # rows and vectors of different lengths
}


@pytest.mark.parametrize(
    "make",
    [
        lambda: PartialDate(2024, 13),
        lambda: PartialDate(2024, 2, 32),
        lambda: PartialDate(None, None, 5),
        lambda: PartialDate.from_iso("13 Feb"),
        lambda: load_embedder("huge"),  # type: ignore[arg-type]
        lambda: fts.match_expression([]),
    ],
)
def test_what_a_user_can_get_wrong_is_an_invalid_input(make):
    with pytest.raises(InvalidInput) as e:
        make()
    assert isinstance(e.value, RadarError) and e.value.http_status == 400
    assert isinstance(e.value, ValueError)  # the parsers' `except ValueError` fallbacks still hold


def raised_builtins() -> set[tuple[str, str]]:
    found = set()
    paths = list(SRC.rglob("*.py"))
    assert len(paths) > 100, "the scan reads the source"
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = getattr(node.exc.func, "id", None)
                if name in ("ValueError", "RuntimeError", "TypeError", "KeyError"):
                    found.add((path.relative_to(SRC).as_posix(), name))
    return found


def test_no_new_builtin_error_is_raised_in_the_library():
    found = raised_builtins()
    assert found <= INTERNAL, f"raise a RadarError (errors.py) instead: {sorted(found - INTERNAL)}"
