"""The competent tribunal administratif: that of the applicant's residence (CJA R.312-8).

The table (data/tribunals.json) lists the 42 tribunals and the départements each covers (CJA R.221-3).
The residence is read from the postal code of the request's postal address; without one, the prefecture's
own département stands in (the prefect competent for a residence permit is that of the residence, so
they usually coincide).
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from guichet.waitlist.models import AppointmentRequest

DATA_FILE = Path(__file__).parent / "data" / "tribunals.json"

# A French postal code: five digits standing alone (not part of a longer number such as a phone number).
_POSTAL_CODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")
# Overseas collectivities that share the 971 postal prefix with Guadeloupe.
_SPECIAL_POSTAL_CODES = {"97133": "977", "97150": "978"}


@dataclass(frozen=True)
class Tribunal:
    id: str
    name: str
    seat: str
    address: tuple[str, ...]
    departements: tuple[str, ...]
    territories: tuple[str, ...]

    @property
    def address_text(self) -> str:
        return "\n".join(self.address)


@cache
def tribunals() -> tuple[Tribunal, ...]:
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return tuple(
        Tribunal(
            id=item["id"],
            name=item["name"],
            seat=item["seat"],
            address=tuple(item["address"]),
            departements=tuple(item["departements"]),
            territories=tuple(item.get("territories", ())),
        )
        for item in raw["tribunals"]
    )


@cache
def _by_area() -> dict[str, Tribunal]:
    table: dict[str, Tribunal] = {}
    for tribunal in tribunals():
        for code in (*tribunal.departements, *tribunal.territories):
            if code in table:
                raise ValueError(f"{code} is covered by both {table[code].id} and {tribunal.id}")
            table[code] = tribunal
    return table


def tribunal_for_department(code: str) -> Tribunal | None:
    return _by_area().get(code.upper().strip())


def department_for_postal_code(postal_code: str) -> str | None:
    """The département (or overseas collectivity) of a French postal code; None when it is not one.

    Corsica's codes start with 20: 200xx and 201xx are Corse-du-Sud (2A), 202xx to 206xx Haute-Corse (2B).
    Overseas codes use three digits (971 to 976, 986 to 988), except Saint-Barthélemy and Saint-Martin,
    which have 97133 and 97150 inside Guadeloupe's range.
    """
    if not re.fullmatch(r"\d{5}", postal_code or ""):
        return None
    if postal_code in _SPECIAL_POSTAL_CODES:
        return _SPECIAL_POSTAL_CODES[postal_code]
    if postal_code.startswith(("97", "98")):
        code = postal_code[:3]
        return code if code in _by_area() else None
    if postal_code.startswith("20"):
        return "2A" if postal_code[2] in "01" else "2B" if postal_code[2] in "23456" else None
    code = postal_code[:2]
    return code if code != "00" and code in _by_area() else None


def postal_code_in(address: str) -> str | None:
    """The postal code of a free-text address: the last five-digit group followed by a town name."""
    matches = list(_POSTAL_CODE.finditer(address or ""))
    for match in reversed(matches):
        rest = address[match.end() :].lstrip(" ,")
        if rest[:1].isalpha():
            return match.group(1)
    return matches[-1].group(1) if matches else None


@dataclass(frozen=True)
class Competence:
    tribunal: Tribunal
    department: str
    from_address: bool  # False: the prefecture's département stood in for the residence


def competent_tribunal(request: AppointmentRequest) -> Competence:
    """The tribunal of the applicant's residence, or of the prefecture when the address says nothing."""
    postal_code = postal_code_in(request.postal_address)
    department = department_for_postal_code(postal_code) if postal_code else None
    if department is not None:
        tribunal = tribunal_for_department(department)
        if tribunal is not None:
            return Competence(tribunal, department, from_address=True)
    department = request.prefecture.code
    tribunal = tribunal_for_department(department)
    if tribunal is None:  # only if the table and the département codes ever disagree
        raise LookupError(f"no tribunal covers département {department}")
    return Competence(tribunal, department, from_address=False)
