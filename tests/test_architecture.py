"""SPEC §5's import rules, checked on the source with ``ast``: a broken rule fails here, not in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PURE = [
    "bot/dialogue.py",
    "bot/understanding.py",
    "bot/messages.py",
    "bot/gsm7.py",
    "bot/phones.py",
    "bot/scheduler/planning.py",
]
# What a pure module may import: the standard library's pure parts, pure libraries, and pure project modules.
PURE_ALLOWED_PREFIXES = (
    "__future__", "collections", "dataclasses", "datetime", "enum", "functools", "itertools", "math", "re",
    "typing", "unicodedata", "zoneinfo", "string", "bisect", "random",
    "babel", "rapidfuzz", "phonenumbers", "holidays",
    "bot.channels", "bot.config", "bot.territory", "bot.messages", "bot.gsm7", "bot.understanding", "bot.phones",
    "storage.models",  # the enums (Level, statuses): data, no I/O
)  # fmt: skip
WIRING = {"bot/app.py", "bot/cli.py"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the module's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # "from bot import messages" imports bot.messages: record each imported name under its module
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_storage_imports_nothing_from_bot() -> None:
    offenders = {
        rel(p): sorted(i for i in imports_of(p) if i == "bot" or i.startswith("bot.")) for p in python_files("storage")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_do_no_io(module: str) -> None:
    path = ROOT / module
    assert path.exists(), f"{module} is missing"
    bad = sorted(i for i in imports_of(path) if not i.startswith(PURE_ALLOWED_PREFIXES))
    assert bad == [], f"{module} imports {bad}"


def test_channel_modules_import_neither_each_other_nor_the_dialogue() -> None:
    handlers = {p.stem for p in python_files("bot/handlers") if p.stem != "__init__"}
    problems = {}
    for path in python_files("bot/handlers"):
        others = {f"bot.handlers.{h}" for h in handlers if h != path.stem}
        bad = sorted(i for i in imports_of(path) if i in others or i == "bot.dialogue")
        if bad:
            problems[rel(path)] = bad
    assert problems == {}


def test_scheduler_reaches_channels_only_through_the_sender_interface() -> None:
    problems = {
        rel(p): sorted(i for i in imports_of(p) if i.startswith("bot.handlers")) for p in python_files("bot/scheduler")
    }
    assert {k: v for k, v in problems.items() if v} == {}


def test_only_the_wiring_knows_the_channels() -> None:
    """Only app.py and cli.py (and the command modules cli.py assembles) import channel modules."""
    problems = {}
    for path in python_files("bot"):
        name = rel(path)
        if name in WIRING or name.startswith(("bot/handlers/", "bot/commands/")):
            continue
        bad = sorted(i for i in imports_of(path) if i.startswith("bot.handlers"))
        if bad:
            problems[name] = bad
    assert problems == {}


def test_nothing_is_built_at_import_time() -> None:
    """No engine, settings or client is created at module level (they come from the app factory)."""
    constructors = {"create_engine", "create_async_engine", "load_settings", "Settings", "Database", "Client", "Bot"}
    problems = []
    for path in python_files("bot") + python_files("storage"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                func = node.value.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in constructors:
                    problems.append(f"{rel(path)}:{node.lineno} {name}()")
    assert problems == []
