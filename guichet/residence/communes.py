"""The communes of France and their département, from the dataset shipped in data/communes.tsv.gz.

The file is made by scripts/import_communes.py from the npm package @etalab/decoupage-administratif
(its first line names the version; data under the Licence Ouverte). It is read once per process.
"""

from __future__ import annotations

import functools
import gzip
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "communes.tsv.gz"


@dataclass(frozen=True)
class Commune:
    code: str  # INSEE code
    name: str
    department: str
    postal_codes: tuple[str, ...]


@dataclass(frozen=True)
class Dataset:
    source: str
    communes: tuple[Commune, ...]
    by_postal_code: dict[str, tuple[Commune, ...]]
    by_code: dict[str, Commune]
    by_name: dict[str, tuple[Commune, ...]]


def fold(text: str) -> str:
    """A name as people type it: no accents, no case, hyphens, apostrophes and "Saint"/"St" alike."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    for mark in "-'’.":
        text = text.replace(mark, " ")
    words = ["saint" if word == "st" else "sainte" if word == "ste" else word for word in text.split()]
    return " ".join(words)


@functools.cache
def dataset() -> Dataset:
    with gzip.open(DATA, "rt", encoding="utf-8") as lines:
        source = next(lines).lstrip("# ").strip()
        communes = []
        for line in lines:
            code, name, department, postal = line.rstrip("\n").split("\t")
            communes.append(Commune(code, name, department, tuple(postal.split())))
    by_postal: dict[str, list[Commune]] = {}
    by_name: dict[str, list[Commune]] = {}
    for commune in communes:
        for postal_code in commune.postal_codes:
            by_postal.setdefault(postal_code, []).append(commune)
        by_name.setdefault(fold(commune.name), []).append(commune)
    return Dataset(
        source=source,
        communes=tuple(communes),
        by_postal_code={key: tuple(value) for key, value in by_postal.items()},
        by_code={commune.code: commune for commune in communes},
        by_name={key: tuple(value) for key, value in by_name.items()},
    )


def by_postal_code(postal_code: str) -> tuple[Commune, ...]:
    return dataset().by_postal_code.get(postal_code.strip(), ())


def by_code(code: str) -> Commune | None:
    return dataset().by_code.get(code.strip().upper())


def by_name(name: str) -> tuple[Commune, ...]:
    return dataset().by_name.get(fold(name), ())


def source() -> str:
    return dataset().source
