"""The catalogue as every filing and public page reads it, kept once per process.

A filing used to read the prefecture, the procedure, its sites and its list of documents from the
database, and the procedure page its sites and their counters' rules: a quarter of a filing's time
(docs/benchmarks.md). The catalogue changes a few times a month, so each process keeps what it read, under
the catalogue's version stamp (guichet/catalog/versioning.py: the database changes it on every write).

A request reads the stamp once, at its first catalogue read (one short statement), and from then on sees
the catalogue of that stamp: what the process kept, or, when the stamp is new, what it reads again. So an
edit is seen by the next request that starts after its commit, in every process, with no message to send
and nothing to expire. Outside a request (`per_request` not entered: tasks, commands, the shell, a test
calling a service) every read goes to the database.

Callers get their own copies of the kept objects, never the kept ones: a caller may set attributes on what
it gets, or change a list or dict it holds. The copies are made field by field (`_copy`): `copy.deepcopy`
of a model instance goes through its pickling protocol and cost a filing a third of a millisecond.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db.models import Model
from django.db.models.base import ModelState

from guichet.catalog import versioning
from guichet.catalog.models import ChecklistVersion, Prefecture, Procedure, Site

T = TypeVar("T")

_UNREAD = object()
# Per request: _UNREAD until the first read, then the stamp (None: no stamp row, keep nothing).
# Outside a request: the default, None.
_stamp: ContextVar[Any] = ContextVar("catalogue_stamp", default=None)


class _Kept:
    """What this process read under one stamp."""

    def __init__(self, stamp: str):
        self.stamp = stamp
        self.values: dict[tuple, Any] = {}


_kept = _Kept("")


@contextmanager
def per_request() -> Iterator[None]:
    """One request: the stamp is read at most once inside (guichet/catalog/middleware.py)."""
    token = _stamp.set(_UNREAD)
    try:
        yield
    finally:
        _stamp.reset(token)


def _current_stamp() -> str | None:
    stamp = _stamp.get()
    if stamp is _UNREAD:
        stamp = versioning.current_stamp()
        _stamp.set(stamp)
    return stamp


def _read(key: tuple, load: Callable[[], T]) -> T:
    global _kept  # one store per process, replaced whole when the stamp changes
    stamp = _current_stamp()
    if stamp is None:
        return load()
    kept = _kept
    if kept.stamp != stamp:
        kept = _kept = _Kept(stamp)
    try:
        value = kept.values[key]
    except KeyError:
        value = kept.values[key] = load()
    return _copy(value)


def _copy(value: Any) -> Any:
    """A copy the caller may change: model instances, and the lists and dicts that hold them."""
    if isinstance(value, Model):
        return _copy_instance(value)
    if isinstance(value, list):
        return [_copy(each) for each in value]
    if isinstance(value, dict):
        return {key: _copy(each) for key, each in value.items()}
    return value  # None, or what the loaders never return (they give instances, lists and dicts)


def _copy_instance(instance: Model) -> Model:
    clone = instance.__class__.__new__(instance.__class__)
    attributes = {}
    for name, attribute in instance.__dict__.items():
        if name == "_state":
            continue
        # A JSON field's value (list, dict) may be changed in place: each caller gets its own.
        attributes[name] = copy.deepcopy(attribute) if isinstance(attribute, list | dict | set) else attribute
    state = ModelState()
    state.db, state.adding = instance._state.db, instance._state.adding
    # Related objects read with it (select_related), copied the same way.
    state.fields_cache = {name: _copy(each) for name, each in instance._state.fields_cache.items()}
    attributes["_state"] = state
    clone.__dict__.update(attributes)
    return clone


def prefecture(code: str) -> Prefecture | None:
    """The prefecture of this département code."""
    return _read(("prefecture", code), lambda: Prefecture.objects.filter(code=code).first())


def prefectures() -> list[Prefecture]:
    """Every prefecture, by code."""
    return _read(("prefectures",), lambda: list(Prefecture.objects.order_by("code")))


def procedure(prefecture_id: int, code: str) -> Procedure | None:
    """The procedure of this code in this prefecture, active or not."""
    return _read(
        ("procedure", prefecture_id, code),
        lambda: Procedure.objects.filter(prefecture_id=prefecture_id, code=code).first(),
    )


def public_procedure(prefecture_code: str, code: str) -> Procedure | None:
    """An active procedure with its prefecture, as the public pages name it."""
    return _read(
        ("public_procedure", prefecture_code, code),
        lambda: (
            Procedure.objects.select_related("prefecture")
            .filter(prefecture__code=prefecture_code, code=code, is_active=True)
            .first()
        ),
    )


def sites(prefecture_id: int) -> dict[int, Site]:
    """Every site of the prefecture, active or not, by id."""
    return _read(
        ("sites", prefecture_id),
        lambda: {site.pk: site for site in Site.objects.filter(prefecture_id=prefecture_id)},
    )


def sites_serving(procedure_id: int) -> list[Site]:
    """Active sites with an active counter that has an opening rule for the procedure, by name."""
    return _read(
        ("sites_serving", procedure_id),
        lambda: list(
            Site.objects.filter(
                is_active=True,
                counters__is_active=True,
                counters__opening_rules__procedures=procedure_id,
            )
            .distinct()
            .order_by("name")
        ),
    )


def latest_checklist(procedure_id: int) -> ChecklistVersion | None:
    """The latest published version of the procedure's list of documents."""
    return _read(
        ("latest_checklist", procedure_id),
        lambda: ChecklistVersion.objects.filter(procedure_id=procedure_id).order_by("-number").first(),
    )


def stamp() -> str | None:
    """The stamp this request sees (None outside a request): part of the key of what is kept per stamp
    elsewhere (the public pages' rendered fragments)."""
    return _current_stamp()
