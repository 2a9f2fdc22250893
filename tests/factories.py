"""Plain functions that build catalogue objects for tests (no factory library: the models are small)."""

import datetime
from dataclasses import dataclass, field

from guichet.catalog.models import Counter, OpeningRule, Prefecture, Procedure, Site


def prefecture(code: str = "93", name: str = "Préfecture de la Seine-Saint-Denis") -> Prefecture:
    return Prefecture.objects.get_or_create(code=code, defaults={"name": name})[0]


def site(pref: Prefecture, name: str = "Bobigny", step_free: bool = True, **extra) -> Site:
    return Site.objects.create(
        prefecture=pref,
        name=name,
        address=extra.pop("address", "1 esplanade Jean Moulin"),
        postal_code=extra.pop("postal_code", "93000"),
        city=extra.pop("city", name),
        step_free=step_free,
        **extra,
    )


def counter(at: Site, name: str = "Guichet 1", languages: list[str] | None = None) -> Counter:
    return Counter.objects.create(site=at, name=name, languages=languages or [])


def procedure(pref: Prefecture, code: str = "first-permit", **extra) -> Procedure:
    defaults = {
        "name": extra.pop("name", code.replace("-", " ").capitalize()),
        "kind": extra.pop("kind", Procedure.Kind.FIRST_PERMIT),
        "duration_minutes": 20,
        "target_wait_days": 30,
        "minimum_notice_hours": 24,
        "offer_validity_hours": 48,
    }
    defaults.update(extra)
    return Procedure.objects.create(prefecture=pref, code=code, **defaults)


def rule(
    at: Counter,
    procedures: list[Procedure],
    weekday: int = 0,
    start: str = "09:00",
    end: str = "12:00",
    slot_minutes: int = 30,
    valid_from: datetime.date = datetime.date(2020, 1, 1),
    valid_until: datetime.date | None = None,
) -> OpeningRule:
    made = OpeningRule.objects.create(
        counter=at,
        weekday=weekday,
        start_time=datetime.time.fromisoformat(start),
        end_time=datetime.time.fromisoformat(end),
        slot_minutes=slot_minutes,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    made.procedures.set(procedures)
    return made


@dataclass
class World:
    prefecture: Prefecture
    sites: list[Site] = field(default_factory=list)
    counters: list[Counter] = field(default_factory=list)
    procedures: dict[str, Procedure] = field(default_factory=dict)


def world(code: str = "93") -> World:
    pref = prefecture(code)
    main = site(pref, "Bobigny", step_free=True)
    annex = site(pref, "Le Raincy", step_free=False, postal_code="93340", address="4 allée de Grandval")
    first = procedure(pref, "first-permit")
    renewal = procedure(pref, "renewal", kind=Procedure.Kind.RENEWAL, is_renewal=True, target_wait_days=45)
    collection = procedure(
        pref,
        "collection",
        kind=Procedure.Kind.COLLECTION,
        mode=Procedure.Mode.OPEN,
        duration_minutes=10,
        target_wait_days=14,
    )
    c1 = counter(main, "Guichet 1", ["ar", "en"])
    c2 = counter(main, "Guichet 2")
    c3 = counter(annex, "Guichet A", ["es"])
    for weekday in range(5):
        rule(c1, [first, renewal], weekday=weekday)
        rule(c2, [renewal, collection], weekday=weekday, start="13:00", end="16:00", slot_minutes=20)
        rule(c3, [first, renewal, collection], weekday=weekday)
    return World(
        pref, [main, annex], [c1, c2, c3], {"first": first, "renewal": renewal, "collection": collection}
    )
