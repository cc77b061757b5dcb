"""Build a territory TOML file from a communes CSV (the columns of shared/data/*-communes.csv).

    python scripts/territory_from_csv.py communes.csv --name "Montluçon Communauté" > territory.toml

One venue per commune is created at its town hall; edit the file afterwards to add halls or the bus stop. The
interests offered at sign-up (with the words that mean them) and the answers to residents' usual questions are
copied from the bundled Montluçon file, with its [confirmation] and [coop] tables (asking residents to confirm,
La Coop's themes): edit them too (the answers name Montluçon Communauté and its number).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

BUNDLED = Path(__file__).resolve().parent.parent / "bot" / "territories" / "montlucon-communaute.toml"


def _town_hall(commune: str) -> str:
    """ "Mairie de Domérat", "Mairie d'Arpheuilles-Saint-Priest" (elided before a vowel), "Mairie du Brethon"."""
    if commune.startswith("Le "):
        return "Mairie du " + commune[3:]
    if commune.startswith("Les "):
        return "Mairie des " + commune[4:]
    if commune[:1] in "AEIOUYÉÈÊÎÔHaeiouyéèh":
        return "Mairie d'" + commune
    return "Mairie de " + commune


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("--name", required=True)
    parser.add_argument("--sender", default="AtelierNum")
    args = parser.parse_args()
    with open(args.csv, encoding="utf-8-sig", newline="") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: r["name"])
    out = [f"name = {_quote(args.name)}", f"sender_name = {_quote(args.sender)}", ""]
    out += ["[contact]", 'phone = ""', 'email = ""', 'hours = ""', ""]
    out += [_settings_sections()]
    for row in rows:
        out += [
            "[[communes]]",
            f"insee = {_quote(row['insee'])}",
            f"name = {_quote(row['name'])}",
            f"postcode = {_quote(row['postcode'])}",
            f"population = {int(row['population'])}",
            f"latitude = {float(row['town_hall_lat'])}",
            f"longitude = {float(row['town_hall_lon'])}",
            "",
        ]
    for row in rows:
        out += [
            "[[venues]]",
            f"commune = {_quote(row['insee'])}",
            f"name = {_quote(_town_hall(row['name']))}",
            f"address = {_quote(row['town_hall_address'])}",
            f"latitude = {float(row['town_hall_lat'])}",
            f"longitude = {float(row['town_hall_lon'])}",
            "",
        ]
    sys.stdout.write("\n".join(out))
    sys.stdout.write("\n" + _shared_sections())


def _settings_sections() -> str:
    """The bundled file's [confirmation] and [coop] tables (asking residents to confirm; La Coop's themes)."""
    text = BUNDLED.read_text(encoding="utf-8")
    return text[text.index("[confirmation]") : text.index("[[communes]]")]


def _shared_sections() -> str:
    """The bundled file's [[interests]] and [[faq]] tables, with their comments: the same for any territory."""
    text = BUNDLED.read_text(encoding="utf-8")
    start = text.index("# What residents may ask to learn")
    return text[start:]


if __name__ == "__main__":
    main()
