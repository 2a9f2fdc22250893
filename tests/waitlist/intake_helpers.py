"""What a valid request looks like as typed, for the intake, API and demo tests."""

import datetime

from django.utils import timezone

from guichet.catalog.models import Procedure
from guichet.evidence.audit import APPLICANT
from guichet.waitlist.services import file_request
from guichet.waitlist.validation import validate_intake
from tests import factories


def catalogue(code: str = "93") -> factories.World:
    """The sites and procedures of `factories.world()` without counters and rules: intake needs no slots."""
    pref = factories.prefecture(code)
    main = factories.site(pref, "Bobigny", step_free=True)
    annex = factories.site(pref, "Le Raincy", step_free=False, postal_code="93340")
    first = factories.procedure(pref, "first-permit")
    renewal = factories.procedure(
        pref, "renewal", kind=Procedure.Kind.RENEWAL, is_renewal=True, target_wait_days=45
    )
    collection = factories.procedure(
        pref, "collection", kind=Procedure.Kind.COLLECTION, mode=Procedure.Mode.OPEN, target_wait_days=14
    )
    return factories.World(
        pref, [main, annex], [], {"first": first, "renewal": renewal, "collection": collection}
    )


def today_in(prefecture) -> datetime.date:
    return timezone.now().astimezone(prefecture.tzinfo).date()


def raw_request(world, **overrides) -> dict:
    """A first-permit request as the API would receive it; overrides replace or add fields."""
    raw = {
        "procedure": world.procedures["first"].code,
        "sites": [],
        "family_names": "Nguyễn",
        "given_names": "Văn An",
        "birth_date": "1990-05-17",
        "nationality": "VN",
        "email": "an.nguyen@example.org",
        "phone": "06 12 34 56 78",
        "language": "fr",
    }
    raw.update(overrides)
    return {key: value for key, value in raw.items() if value is not ...}


def renewal_raw(world, expires_in_days: int = 90, **overrides) -> dict:
    expiry = today_in(world.prefecture) + datetime.timedelta(days=expires_in_days)
    fields = {"procedure": world.procedures["renewal"].code, "permit_expires_on": expiry.isoformat()}
    return raw_request(world, **{**fields, **overrides})


def file(world, channel="web", actor=APPLICANT, received_at=None, **overrides):
    data = validate_intake(raw_request(world, **overrides), world.prefecture, channel=channel)
    return file_request(
        data, prefecture=world.prefecture, channel=channel, actor=actor, received_at=received_at
    )
