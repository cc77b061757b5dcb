"""Rebuild ``bot/territories/france-communes.tsv.gz`` from shared/data/france-communes.csv.

    python scripts/bundle_france_communes.py ../shared/data/france-communes.csv

Every French commune (INSEE code, name, postcodes, population), so that a place named outside the territory
("Vichy", "Moulins", "03200") is recognised and answered kindly. The département is the start of the INSEE code,
so it is not repeated; the keys the name is looked up by are computed here, so that loading is only reading.
Compressed (about 580 kB) and read only when first needed.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.conversation.understanding.communes import france_keys

TARGET = Path(__file__).resolve().parent.parent / "bot" / "territories" / "france-communes.tsv.gz"
HEADER = "# insee\tname\tpostcodes\tpopulation\tkeys — INSEE COG via @etalab/decoupage-administratif 6.0.0\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    args = parser.parse_args()
    with open(args.csv, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = []
    for r in rows:
        population, keys = str(int(r["population"] or 0)), ",".join(france_keys(r["name"]))
        lines.append("\t".join((r["insee"], r["name"], r["postcodes"], population, keys)) + "\n")
    # mtime=0: the same input gives the same bytes
    TARGET.write_bytes(gzip.compress((HEADER + "".join(lines)).encode("utf-8"), compresslevel=9, mtime=0))


if __name__ == "__main__":
    main()
