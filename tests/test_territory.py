"""The territory file (its interests and answers to usual questions) and the bundled communes of France, as rows."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config import DEFAULT_TERRITORY
from bot.territory import FRANCE_FILE, TerritoryError, load_france, load_territory, parse_territory

ROOT = Path(__file__).resolve().parent.parent
BUNDLED: dict[str, Any] = tomllib.loads(DEFAULT_TERRITORY.read_text(encoding="utf-8"))


def with_changes(**changes: Any) -> dict[str, Any]:
    return {**BUNDLED, **changes}


REFUSED = [
    pytest.param({"interests": [{"label": "Impôts", "words": ["impots"]}] * 2}, "same label", id="twice-a-label"),
    pytest.param({"interests": [{"label": "Impôts", "words": "impots"}]}, "list", id="words-not-a-list"),
    pytest.param({"faq": [{"key": "price", "words": ["payant"], "answer": "x" * 161}]}, "one SMS", id="long-answer"),
    pytest.param({"faq": [{"key": "price", "answer": "Gratuit."}]}, "missing 'words'", id="no-words"),
    pytest.param({"faq": [{"words": ["payant"], "answer": "Gratuit."}]}, "missing 'key'", id="no-key"),
]


@pytest.mark.parametrize(("changes", "message"), REFUSED)
def test_a_faulty_territory_file_is_refused_with_a_sentence(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(TerritoryError, match=message):
        parse_territory(with_changes(**changes))


def test_the_bundled_territory_teaches_basics_and_scams_and_answers_usual_questions() -> None:
    territory = load_territory(DEFAULT_TERRITORY)
    labels = [i.label for i in territory.interests]
    assert {"Premiers pas", "Arnaques"} <= set(labels)
    assert {"price", "bring", "where", "transport", "trust"} <= {f.key for f in territory.faq}


def test_a_territory_without_interests_or_answers_still_loads() -> None:
    territory = parse_territory({k: v for k, v in BUNDLED.items() if k not in ("interests", "faq")})
    assert territory.interests == () and territory.faq == ()


def test_every_commune_of_france_is_bundled() -> None:
    communes = load_france()
    assert len(communes) == 34_969
    assert FRANCE_FILE.stat().st_size < 600_000  # compressed: about 580 kB
    moulins = [c for c in communes if c.name == "Moulins"]
    assert sorted(c.departement for c in moulins) == ["02", "03", "35"]
    assert next(c for c in communes if c.insee == "97101").departement == "971"


CSV = (
    "insee,name,postcode,population,town_hall_lat,town_hall_lon,town_hall_address\n"
    '03185,Montluçon,03100,34360,46.3408,2.6034,"1 rue des Conches, 03100 Montluçon"\n'
)


def test_a_new_territory_file_gets_the_interests_and_answers(tmp_path: Path) -> None:
    communes = tmp_path / "communes.csv"
    communes.write_text(CSV, encoding="utf-8")
    made = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "territory_from_csv.py"), str(communes), "--name", "Ailleurs"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    path = tmp_path / "ailleurs.toml"
    path.write_text(made.stdout, encoding="utf-8")
    territory = load_territory(path)
    assert territory.name == "Ailleurs" and len(territory.interests) == 9 and len(territory.faq) == 7
    bundled = load_territory(ROOT / "bot" / "territories" / "montlucon-communaute.toml")
    assert (territory.confirmation, territory.coop) == (bundled.confirmation, bundled.coop)
    assert territory.coop.rules and territory.confirmation.required
