"""The demo prefecture: Seine-Saint-Denis, its prefecture in Bobigny and the sous-préfecture du Raincy.

Re-runnable: every object is looked up by its natural key and created only when missing, so running
the demo twice (or after a manager edited it in the admin) changes nothing that exists.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from guichet.evidence.audit import Actor

from . import services
from .models import Closure, Counter, OpeningRule, Prefecture, Procedure, Site

DEMO_ACTOR = Actor("system", "demo")
# Rules start on a fixed date so that re-running the demo on another day finds the same rules.
RULES_VALID_FROM = datetime.date(2025, 1, 1)
WEEKDAYS = (0, 1, 2, 3, 4)
MON_TO_THU = (0, 1, 2, 3)

PREFECTURE = {"code": "93", "name": "Préfecture de la Seine-Saint-Denis"}

SITES = {
    "bobigny": {
        "name": "Préfecture de la Seine-Saint-Denis (Bobigny)",
        "address": "1 esplanade Jean Moulin",
        "postal_code": "93000",
        "city": "Bobigny",
        "step_free": True,
        "access_notes": "Métro ligne 5 et tramway T1 : station Bobigny – Pablo Picasso. "
        "Entrée du public par l'esplanade, accès de plain-pied et ascenseurs.",
        "latitude": "48.90755",
        "longitude": "2.44082",
    },
    "raincy": {
        "name": "Sous-préfecture du Raincy",
        "address": "4 allée de Grandval",
        "postal_code": "93340",
        "city": "Le Raincy",
        "step_free": False,
        "access_notes": "RER E : gare du Raincy – Villemomble – Montfermeil, puis 10 minutes à pied. "
        "Le bâtiment a des marches à l'entrée : les personnes à mobilité réduite sont reçues à Bobigny.",
        "latitude": "48.89905",
        "longitude": "2.51686",
    },
}

# site key, counter name, languages besides French.
COUNTERS = [
    ("bobigny", "Guichet 1", ["ar", "en"]),
    ("bobigny", "Guichet 2", ["es", "en"]),
    ("bobigny", "Guichet 3", ["ru", "uk"]),
    ("bobigny", "Guichet 4", ["zh-hans", "en"]),
    ("bobigny", "Guichet 5", ["tr", "ar"]),
    ("bobigny", "Guichet 6 – remise des titres", ["en"]),
    ("raincy", "Guichet A", ["ar", "es"]),
    ("raincy", "Guichet B", ["uk", "ru", "en"]),
]

PHOTOS = "Trois photographies d'identité récentes et identiques (norme ISO/IEC 19794-5)"
ADDRESS_PROOF = (
    "Justificatif de domicile de moins de 6 mois (facture, quittance de loyer, attestation d'hébergement)"
)
STAMP = "Timbre fiscal électronique (à acheter sur timbres.impots.gouv.fr)"

PROCEDURES = [
    {
        "code": "premiere-demande",
        "name": "Première demande de titre de séjour",
        "kind": Procedure.Kind.FIRST_PERMIT,
        "description": "Pour une personne qui demande son premier titre de séjour en préfecture.",
        "duration_minutes": 30,
        "registration_minutes": 10,
        "target_wait_days": 90,
        "vulnerable_target_wait_days": 30,
        "minimum_notice_hours": 72,
        "offer_validity_hours": 72,
        "documents": [
            "Passeport en cours de validité (pages d'identité, visas et tampons d'entrée)",
            "Acte de naissance avec filiation (copie intégrale ou extrait), traduit en français",
            ADDRESS_PROOF,
            PHOTOS,
            "Justificatifs du motif de la demande (vie privée et familiale, travail, études…)",
            STAMP,
        ],
    },
    {
        "code": "renouvellement",
        "name": "Renouvellement de titre de séjour",
        "kind": Procedure.Kind.RENEWAL,
        "description": "Pour renouveler un titre de séjour qui arrive à expiration, sans changer de motif.",
        "duration_minutes": 20,
        "registration_minutes": 10,
        "target_wait_days": 45,
        "minimum_notice_hours": 48,
        "offer_validity_hours": 72,
        "is_renewal": True,
        "renewal_window_opens_days": 120,
        "renewal_window_closes_days": 60,
        "renewal_safety_margin_days": 15,
        "documents": [
            "Titre de séjour en cours de validité",
            "Passeport en cours de validité",
            ADDRESS_PROOF,
            PHOTOS,
            "Justificatifs de la situation actuelle (bulletins de salaire, certificat de scolarité…)",
            STAMP,
        ],
    },
    {
        "code": "changement-statut",
        "name": "Changement de statut (par exemple d'étudiant à salarié)",
        "kind": Procedure.Kind.CHANGE_OF_STATUS,
        "description": "Pour demander un titre de séjour pour un autre motif que celui du titre actuel.",
        "duration_minutes": 30,
        "target_wait_days": 60,
        "minimum_notice_hours": 72,
        "offer_validity_hours": 72,
        "documents": [
            "Titre de séjour en cours de validité",
            "Passeport en cours de validité",
            ADDRESS_PROOF,
            PHOTOS,
            "Contrat de travail ou promesse d'embauche, et diplôme obtenu en France le cas échéant",
            STAMP,
        ],
    },
    {
        "code": "duplicata",
        "name": "Duplicata de titre de séjour (perte, vol ou détérioration)",
        "kind": Procedure.Kind.DUPLICATE,
        "description": "Pour remplacer un titre de séjour perdu, volé ou abîmé.",
        "duration_minutes": 20,
        "target_wait_days": 30,
        "minimum_notice_hours": 48,
        "offer_validity_hours": 48,
        "documents": [
            "Déclaration de perte (cerfa n° 14011) ou récépissé de déclaration de vol",
            "Passeport en cours de validité",
            ADDRESS_PROOF,
            PHOTOS,
            STAMP,
        ],
    },
    {
        "code": "titre-voyage",
        "name": "Titre de voyage pour étranger (titre d'identité et de voyage)",
        "kind": Procedure.Kind.TRAVEL_DOCUMENT,
        "description": "Pour une personne qui ne peut pas obtenir de passeport de son pays.",
        "duration_minutes": 20,
        "target_wait_days": 60,
        "minimum_notice_hours": 48,
        "offer_validity_hours": 72,
        "documents": [
            "Titre de séjour en cours de validité",
            ADDRESS_PROOF,
            "Deux photographies d'identité récentes",
            "Tout document montrant l'impossibilité d'obtenir un passeport national",
            STAMP,
        ],
    },
    {
        "code": "remise-titre",
        "name": "Remise d'un titre de séjour",
        "kind": Procedure.Kind.COLLECTION,
        "mode": Procedure.Mode.OPEN,
        "description": "Pour retirer un titre de séjour fabriqué, après le SMS ou le courrier qui l'annonce.",
        "duration_minutes": 10,
        "target_wait_days": 14,
        "minimum_notice_hours": 24,
        "offer_validity_hours": 24,
        "documents": [
            "SMS ou courrier de mise à disposition du titre",
            "Récépissé ou ancien titre de séjour",
            "Passeport en cours de validité",
        ],
    },
]

FIRST, RENEWAL, STATUS, DUPLICATE, TRAVEL, COLLECTION = (p["code"] for p in PROCEDURES)

# counter name, weekdays, start, end, slot minutes, procedures.
RULES = [
    ("Guichet 1", WEEKDAYS, "09:00", "12:00", 30, [FIRST, STATUS, RENEWAL]),
    ("Guichet 1", MON_TO_THU, "13:30", "16:30", 30, [FIRST, STATUS]),
    ("Guichet 2", WEEKDAYS, "09:00", "12:00", 30, [FIRST, RENEWAL, STATUS]),
    ("Guichet 2", WEEKDAYS, "13:30", "16:10", 20, [RENEWAL, DUPLICATE, TRAVEL]),
    ("Guichet 3", WEEKDAYS, "09:00", "12:00", 20, [RENEWAL, DUPLICATE, TRAVEL]),
    ("Guichet 3", MON_TO_THU, "13:30", "16:30", 30, [FIRST, RENEWAL]),
    ("Guichet 4", (0, 2, 4), "09:00", "12:30", 30, [FIRST, RENEWAL, STATUS]),
    ("Guichet 4", (1, 3), "13:30", "16:30", 20, [RENEWAL, DUPLICATE]),
    ("Guichet 5", WEEKDAYS, "08:45", "12:05", 20, [RENEWAL, DUPLICATE, TRAVEL]),
    ("Guichet 6 – remise des titres", WEEKDAYS, "09:00", "12:00", 10, [COLLECTION]),
    ("Guichet 6 – remise des titres", WEEKDAYS, "13:30", "16:30", 10, [COLLECTION]),
    ("Guichet A", MON_TO_THU, "09:00", "12:00", 30, [FIRST, RENEWAL, STATUS]),
    ("Guichet B", WEEKDAYS, "09:00", "12:00", 20, [RENEWAL, DUPLICATE]),
    ("Guichet B", (1, 3), "13:30", "15:30", 10, [COLLECTION]),
]

SITE_CLOSURE_REASON = "Travaux de mise en accessibilité de l'accueil"
COUNTER_CLOSURE_REASON = "Formation des agents au nouveau logiciel"


def _next_weekday(day: datetime.date, weekday: int, weeks_ahead: int) -> datetime.date:
    return day + datetime.timedelta(days=(weekday - day.weekday()) % 7 + 7 * weeks_ahead)


def build_demo_prefecture() -> Prefecture:
    """Create what is missing of the demo prefecture's catalogue (not its slots) and return it."""
    created: list = []

    def keep(result):
        obj, was_created = result
        if was_created:
            created.append(obj)
        return obj

    with transaction.atomic():
        prefecture = keep(
            Prefecture.objects.get_or_create(
                code=PREFECTURE["code"],
                defaults={
                    "name": PREFECTURE["name"],
                    "late_renewal_attestation": True,
                    "contact_email": "accueil-etrangers@seine-saint-denis.example.org",
                    # A number ARCEP reserves for fiction: nobody's line.
                    "contact_phone": "01 99 00 93 93",
                },
            )
        )
        sites = {
            key: keep(Site.objects.get_or_create(prefecture=prefecture, name=values["name"], defaults=values))
            for key, values in SITES.items()
        }
        counters = {
            name: keep(
                Counter.objects.get_or_create(site=sites[site], name=name, defaults={"languages": languages})
            )
            for site, name, languages in COUNTERS
        }
        procedures = {
            values["code"]: keep(
                Procedure.objects.get_or_create(
                    prefecture=prefecture,
                    code=values["code"],
                    defaults={k: v for k, v in values.items() if k != "code"},
                )
            )
            for values in PROCEDURES
        }
        for procedure in procedures.values():
            services.current_checklist(procedure)
        for counter, weekdays, start, end, minutes, codes in RULES:
            for weekday in weekdays:
                rule, was_created = OpeningRule.objects.get_or_create(
                    counter=counters[counter],
                    weekday=weekday,
                    start_time=datetime.time.fromisoformat(start),
                    defaults={
                        "end_time": datetime.time.fromisoformat(end),
                        "slot_minutes": minutes,
                        "valid_from": RULES_VALID_FROM,
                    },
                )
                if was_created:
                    rule.procedures.set([procedures[code] for code in codes])
                    created.append(rule)

        # Two closures in the coming weeks, dated on the first run and kept as they are afterwards.
        today = timezone.localdate(timezone=prefecture.tzinfo)
        keep(
            Closure.objects.get_or_create(
                site=sites["raincy"],
                counter=None,
                reason=SITE_CLOSURE_REASON,
                defaults={
                    "start_date": _next_weekday(today, 4, 2),
                    "end_date": _next_weekday(today, 4, 2),
                },
            )
        )
        counter_closure_day = _next_weekday(today, 2, 1)
        keep(
            Closure.objects.get_or_create(
                site=None,
                counter=counters["Guichet 3"],
                reason=COUNTER_CLOSURE_REASON,
                defaults={"start_date": counter_closure_day, "end_date": counter_closure_day},
            )
        )
        # Audited last: the audit chain head is the last lock a transaction takes.
        for obj in created:
            services.audit_catalog_change(obj, "created", DEMO_ACTOR)
    return prefecture
