"""Synthetic requests for the demo: a living queue of people from many countries, in many scripts.

They go through the same identity keys, due-date rule and signed "received" proofs as real ones (the bulk path
of `services.file_requests_bulk`), backdated over the last six weeks so that the queue has an age.
No message is queued for them: the addresses are fictitious.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, replace

from django.utils import timezone

from guichet.catalog.models import Prefecture, Procedure, Site
from guichet.evidence.audit import Actor

from .models import Channel
from .services import file_requests_bulk
from .validation import IntakeData

DEMO_ACTOR = Actor("system", "demo")
SPREAD_DAYS = 42


@dataclass(frozen=True)
class People:
    """Names of one origin, as they would be written on a passport or typed by the person."""

    nationalities: tuple[str, ...]
    family: tuple[str, ...]
    given: tuple[str, ...]
    interpreter: tuple[str, ...] = ()
    weight: int = 1


ORIGINS = (
    People(
        ("DZ", "MA", "TN"),
        (
            "Benali",
            "Bouzid",
            "El Amrani",
            "Haddad",
            "Khelifi",
            "Mansouri",
            "Aït Ahmed",
            "Ben Youssef",
            "Zerrouki",
        ),
        ("Mohamed", "Fatima", "Yacine", "Nour", "Karim", "Samira", "Amine", "Khadija", "Walid", "Imène"),
        ("ar",),
        weight=6,
    ),
    People(
        ("SY", "IQ", "SD", "YE"),
        ("الحسن", "العلي", "حداد", "الخطيب", "النوري", "عبد الرحمن", "الأحمد", "شريف"),
        ("محمد", "أحمد", "فاطمة", "زينب", "عمر", "ليلى", "يوسف", "مريم", "خالد"),
        ("ar",),
        weight=3,
    ),
    People(
        ("AF", "IR"),
        ("رحیمی", "احمدزی", "کریمی", "حسینی", "محمدی", "Rahimi", "Ahmadzai", "Hosseini"),
        ("فریبا", "نجیب", "زهرا", "علی", "Farid", "Shabnam", "Mohammad Reza"),
        ("fa", "ps"),
        weight=3,
    ),
    People(
        ("RU", "UA", "BY", "GE"),
        (
            "Иванов",
            "Петренко",
            "Шевченко",
            "Коваленко",
            "Смирнова",
            "Кузнецов",
            "Бондар",
            "Мельник",
            "ბერიძე",
        ),
        ("Олександр", "Анна", "Дмитрий", "Ольга", "Юлія", "Сергій", "Ірина", "Алексей", "ნინო"),
        ("ru", "uk", "ka"),
        weight=3,
    ),
    People(
        ("CN",),
        ("王", "李", "张", "刘", "陈", "杨", "黄", "Wang", "Zhang"),
        ("伟", "芳", "小明", "丽娜", "建国", "秀英", "Wei", "Li Na"),
        ("zh",),
        weight=2,
    ),
    People(
        ("VN",),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "NGUYEN", "Tran"),
        ("Văn An", "Thị Hoa", "Minh Khôi", "Thu Trang", "Đức Anh", "Van An"),
        ("vi",),
        weight=2,
    ),
    People(
        ("TR",),
        ("Yılmaz", "Şahin", "Demir", "Çelik", "Öztürk", "Aydın", "Kılıç", "Doğan"),
        ("Ayşe", "Mehmet", "Çağla", "İbrahim", "Gülşen", "Emre", "Şükrü", "Özlem"),
        ("tr", "ku"),
        weight=3,
    ),
    People(
        ("CO", "PE", "VE", "MX", "BO"),
        ("García", "Rodríguez", "Núñez", "Muñoz", "Peña", "Hernández", "Quispe Mamani", "Gutiérrez"),
        ("José Luis", "María Fernanda", "Andrés", "Ximena", "Jesús", "Lucía", "Ángel"),
        ("es",),
        weight=3,
    ),
    People(
        ("BR", "PT", "CV", "AO"),
        ("Gonçalves", "Araújo", "da Conceição", "Magalhães", "dos Santos", "Fernandes"),
        ("João", "Conceição", "Thiago", "Luíza", "Antônio", "Inês"),
        ("pt",),
        weight=2,
    ),
    People(
        ("ML", "SN", "CI", "GN", "BF", "MR"),
        ("Traoré", "Diallo", "Coulibaly", "N'Diaye", "Koné", "Camara", "Bamba", "Sissoko", "Touré"),
        ("Aminata", "Moussa", "Mamadou", "Fatoumata", "Ibrahima", "Aïssatou", "Oumar", "Mariam"),
        ("bm", "wo"),
        weight=7,
    ),
    People(
        ("CD", "CG", "CM", "CF"),
        ("Mukendi", "Ilunga", "Nkounkou", "Mbarga", "Tshibanda", "Ngoma", "Essomba"),
        ("Grâce", "Patrick", "Chancelle", "Déogratias", "Merveille", "Junior", "Béatrice"),
        ("ln",),
        weight=4,
    ),
    People(
        ("BD", "PK", "IN", "LK"),
        ("Rahman", "Hossain", "Chowdhury", "Khan", "Sivakumar", "Tharmalingam", "Begum", "Singh"),
        ("Tasnim", "Arif", "Nusrat", "Kavitha", "Imran", "Harpreet", "Shanthi"),
        ("bn", "ur", "ta", "pa"),
        weight=3,
    ),
    People(
        ("HT",),
        ("Jean-Baptiste", "Pierre-Louis", "Joseph", "Saint-Fleur", "Dorméus"),
        ("Wideline", "Jean-Ronald", "Mirlande", "Fritznel", "Nadège"),
        ("ht",),
        weight=2,
    ),
    People(
        ("AM", "AL", "XK", "RS"),
        ("Հովհաննիսյան", "Petrosyan", "Hoxha", "Krasniqi", "Jovanović", "Gashi"),
        ("Անի", "Armen", "Arben", "Drita", "Milica", "Đorđe"),
        ("hy", "sq"),
        weight=2,
    ),
    People(
        ("ER", "ET", "SO", "XX"),
        ("Tesfaye", "Haile", "Abdi", "Mohamud", "ተስፋዬ", "Gebremedhin"),
        ("Semhar", "Yonas", "Hodan", "Abdirahman", "ሰላም", "Filmon"),
        ("ti", "am", "so"),
        weight=2,
    ),
)

STREETS = (
    "rue de la République",
    "avenue Jean Jaurès",
    "boulevard Lénine",
    "rue Gabriel Péri",
    "allée des Tilleuls",
)
CITIES = (("93000", "Bobigny"), ("93200", "Saint-Denis"), ("93100", "Montreuil"), ("93300", "Aubervilliers"))
CHANNELS = (
    (Channel.WEB, 60),
    (Channel.PARTNER, 12),
    (Channel.COUNTER, 12),
    (Channel.PHONE, 8),
    (Channel.POST, 8),
)
VULNERABILITIES = (
    "Pregnancy (third trimester)",
    "Serious illness under treatment",
    "Person with a disability",
    "Minor child in care alone",
)
URGENCIES = (
    "Job offer starting next month: the employer needs the permit.",
    "University enrolment depends on the receipt.",
    "Family member abroad seriously ill: needs to travel.",
)


def _mobile(rnd: random.Random) -> str:
    # Ranges that phonenumbers knows as French mobiles (06 except 063 9x and 069 0-4/6-7; 073 to 079).
    prefix = rnd.choice(["60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78"])
    return f"+33{prefix}{rnd.randint(0, 9_999_999):07d}"


def _pick_weighted(rnd: random.Random, pairs):
    return rnd.choices([item for item, _weight in pairs], weights=[weight for _item, weight in pairs])[0]


def _person(rnd: random.Random) -> tuple[People, str, str, str]:
    origin = rnd.choices(ORIGINS, weights=[origin.weight for origin in ORIGINS])[0]
    family = rnd.choice(origin.family)
    given = rnd.choice(origin.given)
    if rnd.random() < 0.15:  # a second family name, or a compound given name
        family = f"{family} {rnd.choice(origin.family)}" if rnd.random() < 0.5 else family
        given = f"{given} {rnd.choice(origin.given)}"
    return origin, family, given, rnd.choice(origin.nationalities)


def synthetic_items(
    prefecture: Prefecture, count: int, seed: int = 1, now: datetime.datetime | None = None
) -> list[tuple[IntakeData, str, datetime.datetime]]:
    """`count` synthetic requests (data, channel, received at), deterministic for a seed."""
    rnd = random.Random(seed)
    now = now or timezone.now()
    tz = prefecture.tzinfo
    today = now.astimezone(tz).date()
    procedures = list(Procedure.objects.filter(prefecture=prefecture, is_active=True).order_by("pk"))
    sites = list(Site.objects.filter(prefecture=prefecture, is_active=True).order_by("pk"))
    if not procedures:
        return []
    procedure_weights = [
        6 if p.kind == Procedure.Kind.FIRST_PERMIT else 5 if p.is_renewal else 2 for p in procedures
    ]
    items = []
    for index in range(count):
        origin, family, given, nationality = _person(rnd)
        procedure = rnd.choices(procedures, weights=procedure_weights)[0]
        channel = _pick_weighted(rnd, CHANNELS)
        received_at = now - datetime.timedelta(seconds=rnd.randint(0, SPREAD_DAYS * 24 * 3600))
        if received_at > now - datetime.timedelta(minutes=1):
            received_at = now - datetime.timedelta(minutes=1)
        received_on = received_at.astimezone(tz).date()
        birth_date = datetime.date(1950, 1, 1) + datetime.timedelta(days=rnd.randint(0, 365 * 56))
        permit_expires_on = None
        if procedure.is_renewal:
            # Many renewals arrive close to expiry, some already late, a few well ahead.
            permit_expires_on = received_on + datetime.timedelta(
                days=rnd.choice([-5, 10, 20, 35, 60, 90, 130])
            )
            permit_expires_on += datetime.timedelta(days=rnd.randint(0, 9))
        postal_only = channel == Channel.POST and rnd.random() < 0.7
        number, city = rnd.choice(CITIES)
        address = f"{rnd.randint(1, 180)} {rnd.choice(STREETS)}\n{number} {city}"
        email = "" if postal_only else f"demo.{seed}.{index}@example.org"
        phone = "" if postal_only or rnd.random() < 0.2 else _mobile(rnd)
        chosen_sites: tuple[Site, ...] = ()
        if sites and rnd.random() < 0.5:
            chosen_sites = tuple(
                sorted(rnd.sample(sites, rnd.randint(1, min(2, len(sites)))), key=lambda s: s.pk)
            )
        language = rnd.choices(
            ["fr", "en", "ar", "es", "ru", "uk", "zh-hans", "tr"], [10, 2, 3, 1, 1, 1, 1, 1]
        )[0]
        data = IntakeData(
            procedure=procedure,
            sites=chosen_sites,
            family_names=family,
            given_names=given,
            birth_date=birth_date,
            nationality=nationality,
            foreign_national_number=(
                f"{rnd.randint(0, 9_999_999_999):010d}" if procedure.is_renewal or rnd.random() < 0.2 else ""
            ),
            passport_number=(
                f"{rnd.choice('ABCDEFGHKLMNPRSTUVWXYZ')}{rnd.randint(1_000_000, 99_999_999)}"
                if rnd.random() < 0.6
                else ""
            ),
            email=email,
            phone=phone,
            postal_address=address if postal_only or rnd.random() < 0.3 else "",
            language=language,
            permit_expires_on=permit_expires_on,
            interpreter_language=rnd.choice(origin.interpreter) if rnd.random() < 0.15 else "",
            needs_step_free=rnd.random() < 0.04,
            needs_other="Needs to come with a baby stroller." if rnd.random() < 0.02 else "",
            unavailable_weekdays=(rnd.randint(0, 4),) if rnd.random() < 0.1 else (),
            unavailable_dates=(today + datetime.timedelta(days=rnd.randint(3, 40)),)
            if rnd.random() < 0.05
            else (),
            earliest_date=today + datetime.timedelta(days=rnd.randint(1, 20))
            if rnd.random() < 0.05
            else None,
            urgency_circumstances=rnd.choice(URGENCIES) if rnd.random() < 0.05 else "",
            vulnerability_reason=rnd.choice(VULNERABILITIES) if rnd.random() < 0.05 else "",
        )
        if data.needs_step_free and data.sites and not any(site.step_free for site in data.sites):
            # The form refuses places that all lack step-free access for someone who needs it (no slot
            # could ever suit): the person then names none, as the form's message suggests.
            data = replace(data, sites=())
        items.append((data, channel, received_at))
    return items


def file_synthetic_requests(prefecture: Prefecture, count: int, seed: int = 1) -> int:
    """File `count` synthetic requests into the prefecture's queue; returns how many were created.

    People who already have an active request for the procedure (a second run with the same seed) are
    skipped, exactly as a repeated real submission would be.
    """
    items = synthetic_items(prefecture, count, seed)
    created = 0
    # Chunks keep each transaction (and its lock on the audit chain) short on a live database.
    for start in range(0, len(items), 1000):
        created += len(
            file_requests_bulk(items[start : start + 1000], prefecture=prefecture, actor=DEMO_ACTOR)
        )
    return created
