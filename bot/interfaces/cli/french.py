"""The command line speaks French, Typer's and Click's own texts included.

Typer writes its help, its errors ("Missing option", "No such command", "Aborted.") and its confirmations
(``[y/N]``) in English. Every group and command of ``atelier`` is built from the classes below instead, which
write the help and every error an adviser can meet in French, with the same exit codes:

- ``FrenchGroup`` / ``FrenchCommand``: the help (``Utilisation``, ``Arguments``, ``Options``, ``Commandes``, the
  help option's own line), and "commande inconnue" with a suggestion;
- ``FrenchGroup.main`` (the root ``atelier`` group): parse errors become one French sentence and a pointer to the
  command's ``--help``; an interrupted run says so;
- ``ask_yes_no``: confirmations that accept oui / o / non / n (and y / yes / no), and that say nothing was
  changed when interrupted (Ctrl-C, Ctrl-D).

Typer vendors its own copy of Click (``typer._click``): the exceptions are caught from there.
"""

from __future__ import annotations

import inspect
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from pathlib import Path
from typing import Any, NoReturn, get_args

import typer
from rich.console import Console
from typer._click import exceptions as click_errors  # Typer's vendored Click: its errors are raised from here
from typer._click.core import Context
from typer._click.formatting import HelpFormatter
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

_errors = Console(stderr=True)

HELP_LINE = "Afficher cette aide et quitter."
NOTHING_CHANGED = "Interrompu : rien n'a été changé."
TYPE_NAMES: Mapping[Any, str] = {int: "NOMBRE", float: "NOMBRE", str: "TEXTE", Path: "FICHIER"}
EXPECTED: Mapping[Any, str] = {
    int: "un nombre entier est attendu, par exemple 12",
    float: "un nombre est attendu, par exemple 0,08",
    Path: "un chemin de fichier est attendu",
}


# ---------------------------------------------------------------------------------------------------------------
# Yes / no questions


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).rstrip(" .!")


YES = frozenset({"o", "oui", "ouais", "y", "yes", "ok", "d'accord"})
NO = frozenset({"n", "non", "no"})


def yes_no(answer: str) -> bool | None:
    """An adviser's answer to a confirmation: True, False, or None when it is neither (asked again). Strict on
    purpose: a question that changes something is never answered by a guess."""
    word = _folded(answer)
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def interrupted() -> NoReturn:
    """Ctrl-C or Ctrl-D at a question: nothing was done yet, say so (exit code 1)."""
    _errors.print(NOTHING_CHANGED, highlight=False)
    raise typer.Exit(1)


def ask_yes_no(question: str, *, default: bool = False) -> bool:
    """Ask until the answer is understood; Enter keeps ``default``; an interruption changes nothing."""
    hint = "[O/n]" if default else "[o/N]"
    while True:
        try:
            answer = typer.prompt(f"{question} {hint}", default="", show_default=False, prompt_suffix=" ")
        except typer.Abort:
            interrupted()
        if not str(answer).strip():
            return default
        understood = yes_no(str(answer))
        if understood is not None:
            return understood
        typer.echo("Répondez o (oui) ou n (non).")


def ask_text(question: str) -> str:
    """A free answer (Enter gives ""); an interruption changes nothing."""
    try:
        return str(typer.prompt(question, default="", show_default=False, prompt_suffix=" : "))
    except typer.Abort:
        interrupted()


# ---------------------------------------------------------------------------------------------------------------
# Help


def _annotation(param: TyperOption | TyperArgument) -> Any:
    annotation = param.type_descriptor.annotation
    args = get_args(annotation)
    return args[0] if param.type_descriptor.is_list and args else annotation


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False))


def metavar(param: TyperOption | TyperArgument) -> str:
    if param.metavar:
        return str(param.metavar)
    if isinstance(param, TyperArgument):
        return (param.name or "valeur").upper()
    return TYPE_NAMES.get(_annotation(param), "VALEUR")


def _default_shown(param: TyperOption) -> str | None:
    default = param.default
    if _is_flag(param) or default is None or default == "" or default == () or default == []:
        return None
    if not param.show_default:
        return None
    return str(default)


def _option_row(param: TyperOption, command: Any, ctx: Context) -> tuple[str, str]:
    names = ", ".join([*param.opts, *param.secondary_opts])
    if not _is_flag(param):
        names = f"{names} {metavar(param)}"
    if param is command.get_help_option(ctx):
        return names, HELP_LINE
    extras = []
    if param.required:
        extras.append("[obligatoire]")
    shown = _default_shown(param)
    if shown is not None:
        extras.append(f"[par défaut : {shown}]")
    return names, " ".join([param.help or "", *extras]).strip()


def _argument_row(param: TyperArgument) -> tuple[str, str]:
    extras = "" if param.required else " [facultatif]"
    return metavar(param), f"{param.help or ''}{extras}".strip()


def usage(command: Any, ctx: Context) -> str:
    pieces = ["[OPTIONS]"]
    for param in command.params:
        if isinstance(param, TyperArgument) and not param.hidden:
            name = metavar(param) + ("..." if param.nargs == -1 else "")
            pieces.append(name if param.required else f"[{name}]")
    if isinstance(command, TyperGroup):
        pieces.append("COMMANDE [ARGUMENTS]...")
    return f"Utilisation : {ctx.command_path} {' '.join(pieces)}"


def help_text(command: Any, ctx: Context, formatter: HelpFormatter) -> None:
    """The whole help of a group or a command, in French."""
    formatter.write(usage(command, ctx) + "\n")
    if command.help:
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(inspect.cleandoc(command.help).partition("\f")[0])
    params = command.get_params(ctx)
    arguments = [_argument_row(p) for p in params if isinstance(p, TyperArgument) and not p.hidden]
    options = [_option_row(p, command, ctx) for p in params if isinstance(p, TyperOption) and not p.hidden]
    sections: list[tuple[str, Sequence[tuple[str, str]]]] = [("Arguments", arguments), ("Options", options)]
    if isinstance(command, TyperGroup):
        shown = [(name, sub) for name, sub in command.commands.items() if not sub.hidden]
        limit = max(formatter.width - 6 - max((len(name) for name, _ in shown), default=0), 20)
        sections.append(("Commandes", [(name, sub.get_short_help_str(limit)) for name, sub in shown]))
    for title, rows in sections:
        if rows:
            formatter.write_paragraph()
            formatter.write(f"{title} :\n")
            with formatter.indentation():
                formatter.write_dl(rows)


def help_hint(ctx: Context | None) -> str:
    path = ctx.command_path if ctx is not None else "atelier"
    return f"Aide : {path} --help"


# ---------------------------------------------------------------------------------------------------------------
# Errors


def _param_name(param: Any) -> str:
    if isinstance(param, TyperOption):
        return str(param.opts[0])
    if isinstance(param, TyperArgument):
        return metavar(param)
    return "une valeur"


def _bad_value(error: click_errors.BadParameter) -> str:
    param = error.param
    if not isinstance(param, TyperOption | TyperArgument):
        return "valeur invalide"
    expected = EXPECTED.get(_annotation(param), "valeur non reconnue")
    if "greater than" in error.message or "less than" in error.message:
        expected = "nombre hors des limites permises"
    return f"valeur invalide pour {_param_name(param)} : {expected or 'valeur non reconnue'}"


def _option_usage(error: click_errors.BadOptionUsage) -> str:
    if "does not take a value" in error.message:
        return f"l'option {error.option_name} ne prend pas de valeur"
    return f"l'option {error.option_name} demande une valeur"


def _explained(help_text: str | None) -> str:
    """ " : la raison, donnée aux personnes inscrites" from an option's help "La raison, donnée aux…."."""
    text = (help_text or "").strip().rstrip(".")
    return f" : {text[:1].lower()}{text[1:]}" if text else ""


def french_message(error: click_errors.ClickException) -> str:
    """One French sentence for any error Typer's parser raises (the exception's own text is English)."""
    if isinstance(error, click_errors.MissingParameter):
        param = error.param
        if isinstance(param, TyperOption):
            return f"il manque l'option {param.opts[0]}{_explained(param.help)}"
        if isinstance(param, TyperArgument):
            return f"il manque {metavar(param)}{_explained(param.help)}"
        return "il manque une valeur"
    if isinstance(error, click_errors.BadParameter):
        return _bad_value(error)
    if isinstance(error, click_errors.NoSuchOption):
        known = sorted(error.possibilities or ())
        suggestion = f" (vouliez-vous dire {', '.join(known)} ?)" if known else ""
        return f"option inconnue : {error.option_name}{suggestion}"
    if isinstance(error, click_errors.BadOptionUsage):
        return _option_usage(error)
    if isinstance(error, click_errors.FileError):
        return f"impossible d'ouvrir le fichier {error.ui_filename}"
    message = getattr(error, "message", "")
    if message.startswith("Got unexpected extra argument"):
        extra = message.rpartition(" (")[2].removesuffix(")")
        return f"trop d'arguments : « {extra} » n'était pas attendu"
    if isinstance(error, UnknownCommand):
        return str(error.message)
    if message.startswith("Missing command"):
        return "indiquez une commande"
    return "commande mal écrite"


class UnknownCommand(click_errors.UsageError):
    """A sub-command name that does not exist (its message is already French)."""


# ---------------------------------------------------------------------------------------------------------------
# The classes every ``atelier`` group and command is built from


class FrenchCommand(TyperCommand):
    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        help_text(self, ctx, formatter)


class FrenchGroup(TyperGroup):
    """A group whose help, errors and sub-commands speak French (the root group also renders the errors)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for command in self.commands.values():
            # Typer builds each command with its own class (``TyperCommand``); ours only changes how its help is
            # written, so the command becomes one of ours rather than every decorator repeating ``cls=``.
            if type(command) is TyperCommand:
                command.__class__ = FrenchCommand

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        help_text(self, ctx, formatter)

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name = args[0] if args else ""
        if self.get_command(ctx, name) is None and not name.startswith("-") and not ctx.resilient_parsing:
            close = get_close_matches(name, list(self.commands), n=2)
            suggestion = f" (vouliez-vous dire {' ou '.join(close)} ?)" if close else ""
            raise UnknownCommand(f"commande inconnue : « {name} »{suggestion}", ctx)
        return super().resolve_command(ctx, args)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except click_errors.NoArgsIsHelpError as error:
            typer.echo(error.ctx.get_help())
            sys.exit(0)
        except click_errors.ClickException as error:
            ctx = getattr(error, "ctx", None)
            _errors.print(f"[red]Erreur :[/red] {french_message(error)}.", highlight=False, soft_wrap=True)
            _errors.print(help_hint(ctx), highlight=False, soft_wrap=True)
            sys.exit(error.exit_code)
        except typer.Abort:
            _errors.print(NOTHING_CHANGED, highlight=False)
            sys.exit(1)
        # Not standalone, Typer returns the code of a typer.Exit, or the command's result (None)
        sys.exit(result if isinstance(result, int) else 0)


def french_app(*, help: str, **settings: Any) -> typer.Typer:
    """A Typer group whose help, errors and commands speak French."""
    settings.setdefault("no_args_is_help", True)
    settings.setdefault("cls", FrenchGroup)
    return typer.Typer(help=help, add_completion=False, rich_markup_mode=None, **settings)
