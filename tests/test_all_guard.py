"""No vacuous `all()` in the tests (issue 18 item 7): `assert all(x for x in items)` passes when
`items` is empty, so a test whose query found nothing would pass. Every `all(...)` an assert
makes (the whole condition, or one of its `and` operands) must follow an operand of the same
`and` that names its iterable (`assert items and all(...)`, `assert len(items) == 3 and all(...)`),
unless the iterable is a literal with an element. Read with `ast`; no test module is imported."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# wrappers whose result is truthy even when empty (or that just reorder): the guard names what
# they wrap, e.g. `assert pks and all(... for i, pk in enumerate(pks))`
WRAPPERS = {"enumerate", "zip", "sorted", "reversed", "list", "tuple", "set", "iter"}


# methods that keep a value's emptiness (`found.values()`, `label.split(", ")`): the guard names the value
VIEWS = {"values", "items", "keys", "split"}


def iterable_of(call: ast.Call) -> ast.expr | None:
    """What `all(<generator>)` (or `all(<iterable>)`) runs over, unwrapped from WRAPPERS, VIEWS and
    slices (`hits[:3]` is guarded by `hits`); None for an all() without an argument."""
    if not call.args:
        return None
    arg = call.args[0]
    it = arg.generators[0].iter if isinstance(arg, ast.GeneratorExp | ast.ListComp) else arg
    while True:
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id in WRAPPERS and it.args:
            it = it.args[0]
        elif isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr in VIEWS:
            it = it.func.value
        elif isinstance(it, ast.Subscript) and isinstance(it.slice, ast.Slice):
            it = it.value
        else:
            return it


def non_empty_literal(node: ast.expr) -> bool:
    """A tuple, list or set display with an element, or `range(N)` with N > 0."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        bound = node.args[0] if len(node.args) == 1 else None
        return isinstance(bound, ast.Constant) and isinstance(bound.value, int) and bound.value > 0
    elts = getattr(node, "elts", None)
    return isinstance(node, ast.Tuple | ast.List | ast.Set) and any(
        not isinstance(e, ast.Starred) for e in elts or []
    )


def names(node: ast.expr, wanted: ast.expr) -> bool:
    """Whether `node` contains the expression `wanted`."""
    target = ast.dump(wanted)
    return any(ast.dump(n) == target for n in ast.walk(node))


def is_all(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "all"


def unguarded(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, iterable) of each `all()` an assert makes without first naming its iterable."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert):
            continue
        test = node.test
        operands = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
        for i, operand in enumerate(operands):
            if not is_all(operand):
                continue
            assert isinstance(operand, ast.Call)
            it = iterable_of(operand)
            if it is None:
                yield operand.lineno, "all() of nothing"
            elif not non_empty_literal(it) and not any(names(o, it) for o in operands[:i]):
                yield operand.lineno, ast.unparse(it)


def test_the_scan_finds_a_vacuous_all_and_accepts_a_guarded_one():
    bad = ast.parse("assert all(x > 0 for x in found)\nassert ok and all(p for p, _ in enumerate(pks))")
    good = ast.parse(
        "assert found and all(x > 0 for x in found)\n"
        "assert len(hits) == 3 and all(h for h in hits)\n"
        "assert pks and all(v for _, v in enumerate(pks))\n"
        "assert all(f for f in ('a', 'b')) and all(g for g in range(3))\n"
        "assert found and all(x for x in found[:3]) and all(found.values())\n"
        "assert np.all(a > 0)"
    )
    assert [line for line, _ in unguarded(bad)] == [1, 2]
    assert list(unguarded(good)) == []


def test_every_all_in_the_tests_checks_its_iterable_is_not_empty():
    files = sorted(TESTS.glob("*.py"))
    scanned = [p for p in files if "all(" in p.read_text(encoding="utf-8")]
    assert len(scanned) > 30  # the scan read the test modules
    found = [
        f"{path.name}:{line}: {what}"
        for path in scanned
        for line, what in unguarded(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, "assert all() without first checking its iterable is not empty:\n" + "\n".join(found)
