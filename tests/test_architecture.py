"""SPEC §5's layout and import rules, stated by folder and checked on the source with ``ast``.

Each rule is a row: the modules it governs (by folder), and what they may not import. Purity is checked on the
whole import closure: a pure module that imports a project module which (however deeply) imports an I/O library
breaks the rule as surely as a direct import. The checker itself is tested on a small made-up graph, so that a
rule that could never fail would be noticed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Libraries that do I/O (databases, network, providers, web, processes): a pure module reaches none of them.
IO_LIBRARIES = (
    "sqlalchemy", "aiosqlite", "asyncpg", "psycopg", "alembic", "httpx", "requests", "aiohttp", "twilio",
    "telegram", "starlette", "uvicorn", "apscheduler", "pydantic_settings", "typer", "rich", "jinja2", "argon2",
    "socket", "subprocess", "sqlite3", "asyncio", "urllib", "http", "multiprocessing", "threading", "logging",
)  # fmt: skip
WIRING = {"bot.app", "bot.cli"}
# The required top level (SPEC §5) and the root of bot/ kept small.
REQUIRED = ["bot", "bot/handlers", "bot/scheduler", "storage", "tests", "pyproject.toml", "README.md"]
FOLDERS = ["bot/conversation", "bot/service", "bot/handlers", "bot/interfaces", "bot/scheduler", "storage"]
MAX_ROOT_MODULES = 8


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for folder in ("bot", "storage") for p in sorted((ROOT / folder).rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, ``from a import b`` counted as both ``a`` and ``a.b`` (b may be a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative import: resolve against the module's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{module}" if module else base
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def under(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def closure(start: str, graph: Mapping[str, set[str]]) -> dict[str, list[str]]:
    """Every module reachable from ``start``, each with one import chain that reaches it."""
    chains: dict[str, list[str]] = {start: [start]}
    todo = [start]
    while todo:
        current = todo.pop()
        for imported in sorted(graph.get(current, ())):
            if imported not in chains:
                chains[imported] = [*chains[current], imported]
                if imported in graph:
                    todo.append(imported)
    return chains


def impurities(start: str, graph: Mapping[str, set[str]]) -> list[str]:
    """The import chains by which ``start`` reaches an I/O library."""
    return [
        " → ".join(chain)
        for module, chain in sorted(closure(start, graph).items())
        if module.split(".")[0] in IO_LIBRARIES
    ]


@cache
def graph() -> dict[str, set[str]]:
    return {name: imports_of(path) for name, path in project_modules().items()}


def modules_in(*folders: str) -> list[str]:
    prefixes = tuple(f.replace("/", ".") for f in folders)
    return sorted(m for m in project_modules() if under(m, *prefixes))


PURE = [*modules_in("bot/conversation"), "bot.scheduler.planning", "bot.scheduler.forecast", "storage.enums"]


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_reach_no_io(module: str) -> None:
    assert impurities(module, graph()) == []


@dataclass(frozen=True)
class Rule:
    label: str
    governs: Callable[[str], bool]
    forbids: Callable[[str, str], bool]  # (the importing module, what it imports)


RULES = [
    Rule("storage imports nothing from bot", lambda m: under(m, "storage"), lambda _, i: under(i, "bot")),
    Rule(
        "service reaches channels only through the Sender protocol",
        lambda m: under(m, "bot.service"),
        lambda _, i: under(i, "bot.handlers", "bot.interfaces", *WIRING),
    ),
    Rule(
        "a channel never imports another channel, the dialogue or an interface",
        lambda m: under(m, "bot.handlers"),
        lambda m, i: (
            under(i, "bot.interfaces", "bot.conversation.dialogue", *WIRING)
            or (under(i, "bot.handlers") and i != "bot.handlers" and not under(i, m))
        ),
    ),
    Rule(
        "interfaces never import storage (they call service, reads included)",
        lambda m: under(m, "bot.interfaces"),
        # storage.enums is values only (standard library), shared on purpose (SPEC §5)
        lambda _, i: under(i, "storage", "bot.handlers", *WIRING) and not under(i, "storage.enums"),
    ),
    Rule(
        "the scheduler reaches channels only through the Sender protocol",
        lambda m: under(m, "bot.scheduler"),
        lambda _, i: under(i, "bot.handlers", "bot.interfaces", *WIRING),
    ),
    Rule(
        "the scheduler never imports the service: the wiring hands it the jobs it runs",
        lambda m: under(m, "bot.scheduler"),
        lambda _, i: under(i, "bot.service"),
    ),
    Rule(
        "only app.py and cli.py wire channels and interfaces",
        lambda m: m not in WIRING and not under(m, "bot.handlers", "bot.interfaces"),
        lambda _, i: under(i, "bot.handlers", "bot.interfaces"),
    ),
]


def violations(rule: Rule, modules: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    found = {}
    for module, imported in modules.items():
        bad = sorted(i for i in imported if rule.forbids(module, i)) if rule.governs(module) else []
        if bad:
            found[module] = bad
    return found


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.label)
def test_import_rules(rule: Rule) -> None:
    assert violations(rule, graph()) == {}


# The checker on a made-up graph: each row is a break it must find.
FAKE_GRAPH = {
    "bot.conversation.dialogue": {"bot.conversation.texts", "re"},
    "bot.conversation.texts": {"bot.territory"},
    "bot.territory": {"bot.service.places"},  # a pure module's dependency that reaches the database
    "bot.service.places": {"storage.places"},
    "storage.places": {"sqlalchemy"},
    "bot.service.changes": {"bot.handlers.sms"},
    "bot.handlers.sms": {"bot.handlers.telegram", "bot.conversation.dialogue"},
    "bot.interfaces.web.routes": {"storage.models"},
    "storage.seats": {"bot.config"},
    "bot.scheduler.jobs": {"bot.interfaces.cli.workshops", "bot.service.erasure"},
}
EXPECTED_BREAKS = {
    "storage imports nothing from bot": {"storage.seats": ["bot.config"]},
    "service reaches channels only through the Sender protocol": {"bot.service.changes": ["bot.handlers.sms"]},
    "a channel never imports another channel, the dialogue or an interface": {
        "bot.handlers.sms": ["bot.conversation.dialogue", "bot.handlers.telegram"]
    },
    "interfaces never import storage (they call service, reads included)": {
        "bot.interfaces.web.routes": ["storage.models"]
    },
    "the scheduler reaches channels only through the Sender protocol": {
        "bot.scheduler.jobs": ["bot.interfaces.cli.workshops"]
    },
    "the scheduler never imports the service: the wiring hands it the jobs it runs": {
        "bot.scheduler.jobs": ["bot.service.erasure"]
    },
    "only app.py and cli.py wire channels and interfaces": {
        "bot.scheduler.jobs": ["bot.interfaces.cli.workshops"],
        "bot.service.changes": ["bot.handlers.sms"],
    },
}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.label)
def test_each_rule_catches_its_break(rule: Rule) -> None:
    assert violations(rule, FAKE_GRAPH) == EXPECTED_BREAKS[rule.label]


def test_purity_is_checked_through_every_import() -> None:
    assert impurities("bot.conversation.dialogue", FAKE_GRAPH) == [
        "bot.conversation.dialogue → bot.conversation.texts → bot.territory → bot.service.places → storage.places"
        " → sqlalchemy"
    ]


def test_the_layout_of_spec_section_5() -> None:
    missing = [p for p in [*REQUIRED, *FOLDERS] if not (ROOT / p).exists()]
    root_modules = sorted(p.name for p in (ROOT / "bot").glob("*.py") if p.name != "__init__.py")
    assert missing == []
    assert len(root_modules) <= MAX_ROOT_MODULES, root_modules
    assert (ROOT / "bot/conversation/understanding").is_dir()
    assert {p.stem for p in (ROOT / "bot/conversation/understanding").glob("*.py")} >= {
        "keywords", "numbers", "communes", "choices", "names"
    }  # fmt: skip


def test_nothing_is_built_at_import_time() -> None:
    """No engine, settings or client is created at module level (they come from the app factory)."""
    constructors = {"create_engine", "create_async_engine", "load_settings", "Settings", "Database", "Client", "Bot"}
    problems = []
    for path in project_modules().values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                func = node.value.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name in constructors:
                    problems.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}()")
    assert problems == []
