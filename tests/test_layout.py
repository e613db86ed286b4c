"""The shape of the code, read from its syntax trees (nothing here runs resbook).

- Raw SQL runs only in the two dialect homes (``dialects/*_sql.py``, and the prepared
  statement helper they use), and at few call sites; everything else goes through the
  Peewee models and query builder.
- Only two files ask which database they are talking to: ``urls.py`` (a URL's scheme
  names its dialect) and ``dialects/__init__.py`` (the dialect of an open database).
- Only ``cli/`` imports Typer (or Click); no module is over 400 lines.

Each test prints what it counted, so ``pytest -s tests/test_layout.py`` is the report.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from resbook_tui.models import MODELS

SRC = Path(__file__).resolve().parents[1] / "src" / "resbook_tui"
# compiled.py runs model queries rendered once (compiled.py says why), prepared.py the
# PostgreSQL hot path's prepared statements; the *_sql.py files hold the raw SQL itself.
RAW_HOMES = {
    "dialects/postgresql_sql.py",
    "dialects/sqlite_sql.py",
    "dialects/prepared.py",
    "dialects/compiled.py",
}
MAX_RAW_CALL_SITES = 20
MIN_MODEL_QUERIES = 20
BRANCH_FILES = {"urls.py", "dialects/__init__.py"}
MAX_LINES = 400
QUERY_METHODS = {"select", "insert", "insert_many", "insert_from", "update", "delete"}
DIALECT_NAMES = {"POSTGRESQL", "SQLITE"}
DIALECT_WORDS = {"postgresql", "postgres", "sqlite"}
DATABASE_CLASSES = {"PostgresqlDatabase", "SqliteDatabase"}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _is_sql_text(node: ast.expr) -> bool:
    """A string, an f-string, a joined string or a constant's name: text, not a query."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "join"
    return isinstance(node, ast.Name) and node.id.isupper()


def raw_sql_calls(tree: ast.Module) -> list[int]:
    """Lines that run SQL text: ``execute_sql(...)``, or a DB-API ``execute`` given text."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        if name in ("execute_sql", "executescript") or (
            name == "execute" and node.args and _is_sql_text(node.args[0])
        ):
            lines.append(node.lineno)
    return lines


def test_raw_sql_runs_only_in_the_dialect_homes() -> None:
    found = {path: raw_sql_calls(tree) for path, tree in modules()}
    found = {path: lines for path, lines in found.items() if lines}
    total = sum(len(lines) for lines in found.values())
    for path, lines in sorted(found.items()):
        print(f"raw SQL call sites in {path}: {len(lines)} (lines {lines})")
    print(f"raw SQL call sites in all: {total}")
    assert set(found) <= RAW_HOMES, f"raw SQL outside its homes: {set(found) - RAW_HOMES}"
    assert total <= MAX_RAW_CALL_SITES


def _model_names(path: str, tree: ast.Module) -> set[str]:
    """Names that stand for a model class in this module: imported (maybe renamed),
    assigned from another such name (``hold = ResourceHold``), an ``alias()`` of one, or
    ``cls`` inside the models' own class methods."""
    known = {m.__name__ for m in MODELS} | {"_History"}
    names = {n for n in known if _defines_class(tree, n)}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {a.asname or a.name for a in node.names if a.name in known}
    if path == "models.py":
        names.add("cls")
    for _ in range(2):  # assignments may chain
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                _bind(node.targets, node.value, names)
    return names


def _defines_class(tree: ast.Module, name: str) -> bool:
    return any(isinstance(n, ast.ClassDef) and n.name == name for n in tree.body)


def _stands_for_model(value: ast.expr, names: set[str]) -> bool:
    if isinstance(value, ast.Name):
        return value.id in names
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        return value.func.attr == "alias" and _stands_for_model(value.func.value, names)
    return False


def _bind(targets: list[ast.expr], value: ast.expr, names: set[str]) -> None:
    for target in targets:
        if isinstance(target, ast.Name) and _stands_for_model(value, names):
            names.add(target.id)
        elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
            for t, v in zip(target.elts, value.elts, strict=False):
                if isinstance(t, ast.Name) and _stands_for_model(v, names):
                    names.add(t.id)


def model_queries(path: str, tree: ast.Module) -> list[int]:
    names = _model_names(path, tree)
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in QUERY_METHODS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in names
    ]


def test_queries_go_through_the_model_classes() -> None:
    found = {path: model_queries(path, tree) for path, tree in modules()}
    total = sum(len(lines) for lines in found.values())
    for path, lines in sorted(found.items()):
        if lines:
            print(f"model queries in {path}: {len(lines)}")
    print(f"model queries in all: {total}")
    assert total >= MIN_MODEL_QUERIES


def _asks_dialect(node: ast.AST) -> bool:
    if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        for side in sides:
            if isinstance(side, ast.Name) and side.id in DIALECT_NAMES:
                return True
            if isinstance(side, ast.Constant) and side.value in DIALECT_WORDS:
                return True
            if isinstance(side, ast.Tuple) and any(
                isinstance(e, ast.Constant) and e.value in DIALECT_WORDS for e in side.elts
            ):
                return True
    if isinstance(node, ast.Attribute) and node.attr == "is_pg":
        return True
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "isinstance"
        and len(node.args) == 2
    ):
        kinds = ast.unparse(node.args[1])
        return any(name in kinds for name in DATABASE_CLASSES)
    return False


def test_dialect_branches_live_in_at_most_two_files() -> None:
    found = {
        path: sorted({n.lineno for n in ast.walk(tree) if _asks_dialect(n)})
        for path, tree in modules()
    }
    found = {path: lines for path, lines in found.items() if lines}
    for path, lines in sorted(found.items()):
        print(f"asks which database in {path}: lines {lines}")
    assert len(found) <= 2 and set(found) <= BRANCH_FILES, found


def test_only_the_cli_imports_typer() -> None:
    offenders = []
    for path, tree in modules():
        if path.startswith("cli/"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                roots = {node.module.split(".")[0]}
            else:
                continue
            if roots & {"typer", "click"}:
                offenders.append(f"{path}:{node.lineno}")
    assert not offenders


def test_no_module_is_over_400_lines() -> None:
    sizes = {
        path.relative_to(SRC).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in SRC.rglob("*.py")
    }
    largest = max(sizes, key=lambda p: sizes[p])
    print(f"largest module: {largest}, {sizes[largest]} lines")
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}
