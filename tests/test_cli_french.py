"""Every text an adviser meets on the command line is French: the help of every command, and Typer's and Click's
own errors (missing option, invalid value, unknown command or option, extra arguments, an option without its
value), confirmations and interruptions.

The commands are walked from the ``atelier`` command tree itself, so a command added later is checked too. The
bad inputs are derived from each command's parameters; none of them reaches the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.testing import CliRunner

from bot.cli import app
from bot.interfaces.cli import common
from bot.interfaces.cli.french import NOTHING_CHANGED, yes_no

runner = CliRunner()

# Words and phrases of Typer's and Click's own texts; none may reach an adviser.
ENGLISH = (
    "Usage", "Show this message", "Missing", "Invalid value", "No such", "Aborted", "Error", "required",
    "default", "Try '", "for help", "unexpected", "requires an argument", "Input should", "Did you mean",
    "Possible options", "Commands", "[y/N]", "TEXT", "INTEGER", "<int>", "<bool>", "<str>", "COMMAND", "[ARGS]",
    "does not take", "Got ", "is not", "valid", "Traceback",
)  # fmt: skip


def _pattern(word: str) -> str:
    """A whole word ("TEXT" is not in "TEXTE", "valid" not in "invalide")."""
    start = r"\b" if word[0].isalnum() else ""
    end = r"\b" if word[-1].isalnum() else ""
    return f"{start}{re.escape(word)}{end}"


ENGLISH_WORDS = re.compile("|".join(_pattern(word) for word in ENGLISH))


def english_in(text: str) -> list[str]:
    return ENGLISH_WORDS.findall(text)


def commands(command: object = None, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every group and command of ``atelier``, with the words that call it."""
    command = command or typer.main.get_command(app)
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from commands(sub, (*path, name))


ALL = list(commands())


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    env = {"ATELIER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}", "COLUMNS": "80"}
    result = runner.invoke(app, list(args), env=env, input=stdin, prog_name="atelier")
    return result.exit_code, result.stdout + result.stderr


def test_the_tree_is_walked() -> None:
    names = {" ".join(path) for path, _ in ALL}
    assert {"", "workshops cancel", "broadcast report", "broadcast send", "calls list", "stats activites"} <= names


@pytest.mark.parametrize("path", [path for path, _ in ALL], ids=lambda p: " ".join(p) or "atelier")
def test_every_help_is_french(tmp_path: Path, path: tuple[str, ...]) -> None:
    code, output = run(tmp_path, *path, "--help")
    assert code == 0, output
    assert "Utilisation : atelier" in output
    assert "Afficher cette aide et quitter." in output
    assert english_in(output) == [], output


def bad_inputs() -> Iterator[tuple[str, tuple[str, ...]]]:
    """(label, arguments) for every command: each is a mistake the parser refuses before running anything."""
    for path, command in ALL:
        label = " ".join(path) or "atelier"
        yield f"{label}: unknown option", (*path, "--inconnue")
        if isinstance(command, TyperGroup):
            yield f"{label}: unknown command", (*path, "inconnue")
            continue
        params = getattr(command, "params", [])
        arguments = [p for p in params if isinstance(p, TyperArgument)]
        if any(p.required for p in params):
            yield f"{label}: nothing given", path
        filled = [_sample(p) for p in arguments]
        for option in (p for p in params if isinstance(p, TyperOption) and not getattr(p, "is_flag", False)):
            yield f"{label}: {option.opts[0]} without its value", (*path, *filled, option.opts[0])
            if option.type_descriptor.annotation in (int, float) or "int" in str(option.type_descriptor.annotation):
                yield f"{label}: {option.opts[0]} not a number", (*path, *filled, option.opts[0], "abc")
        for index, argument in enumerate(arguments):
            if argument.type_descriptor.annotation is int:
                wrong = [*filled[:index], "abc", *filled[index + 1 :]]
                yield f"{label}: {argument.name} not a number", (*path, *wrong)
        if arguments and all(a.nargs == 1 for a in arguments):
            yield f"{label}: extra argument", (*path, *filled, "1", "2", "3")


def _sample(argument: TyperArgument) -> str:
    return "12" if argument.type_descriptor.annotation is int else "x"


BAD = list(bad_inputs())


@pytest.mark.parametrize(("label", "args"), BAD, ids=[label for label, _ in BAD])
def test_every_mistake_is_told_in_french(tmp_path: Path, label: str, args: tuple[str, ...]) -> None:
    code, output = run(tmp_path, *args)
    assert code != 0, output
    assert "Erreur :" in output, output
    assert english_in(output) == [], output


@pytest.mark.parametrize(
    ("answer", "meaning"),
    [
        ("oui", True), ("o", True), ("O", True), ("Oui.", True), ("y", True), ("yes", True), ("ouais", True),
        ("non", False), ("n", False), ("N", False), ("no", False), ("NON !", False),
        ("peut-être", None), ("", None), ("oui non", None), ("2", None),
    ],
)  # fmt: skip
def test_confirmations_understand_french_and_english(answer: str, meaning: bool | None) -> None:
    assert yes_no(answer) is meaning


def add_workshop(db_url: str) -> int:
    env = {"ATELIER_DATABASE_URL": db_url, "COLUMNS": "80"}
    day = f"{datetime.now(UTC).date() + timedelta(days=30):%d/%m/%Y}"
    args = ["workshops", "add", "--date", day, "--start", "14:00", "--end", "16:00", "--commune", "domerat"]
    args += ["--level", "1", "--topic", "Tablette", "--json"]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.stderr
    return int(re.findall(r'"id": (\d+)', result.stdout)[0])


@pytest.mark.parametrize(
    ("stdin", "says", "cancelled"),
    [
        ("", NOTHING_CHANGED, False),  # Ctrl-D at the question
        ("non\n", "rien n'a été changé", False),
        ("peut-être\nn\n", "Répondez o (oui) ou n (non).", False),
        ("oui\n", "annulé", True),
        ("o\n", "annulé", True),
        ("y\n", "annulé", True),
    ],
)
def test_confirmations_in_french(
    db_url: str, monkeypatch: pytest.MonkeyPatch, stdin: str, says: str, cancelled: bool
) -> None:
    workshop_id = add_workshop(db_url)
    monkeypatch.setattr(common, "is_terminal", lambda: True)
    env = {"ATELIER_DATABASE_URL": db_url, "COLUMNS": "80"}
    result = runner.invoke(app, ["workshops", "cancel", str(workshop_id), "--reason", "salle"], env=env, input=stdin)
    output = result.stdout + result.stderr
    assert "[o/N]" in output
    assert says in output
    assert english_in(output) == [], output
    assert (result.exit_code == 0) is cancelled
    listed = runner.invoke(app, ["workshops", "list", "--all", "--json"], env=env).stdout
    assert ('"status": "cancelled"' in listed) is cancelled


def test_the_english_check_can_fail() -> None:
    assert english_in("Error: Missing option '--reason'. Try 'atelier --help' for help.") != []
    assert english_in("Usage: atelier [OPTIONS] COMMAND [ARGS]...") != []
    assert english_in("Erreur : valeur invalide pour --limit. Utilisation : atelier COMMANDE [OPTIONS] TEXTE") == []
