"""The manager's services for procedure forms: a draft per procedure, its questions and list of documents,
and publishing it. Staff only (French is enough); the back office's editor and the staff API call these.

A published version never changes: the next change opens a new draft, copied from the version in force.
Every change is audited in the prefecture's chain, in its transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from guichet import locking
from guichet.catalog.models import Procedure
from guichet.catalog.services import current_checklist
from guichet.errors import Conflict, InvalidInput, NotFound
from guichet.evidence.audit import Actor, Change
from guichet.evidence.services import record_change

from .models import FormVersion, Question, QuestionKind
from .questions import clean_limits
from .services import form_in_force

MAX_QUESTIONS = 60


def _invalid(fields: dict[str, list[str]]) -> InvalidInput:
    return InvalidInput("invalid", _("Some fields are missing or invalid."), fields=fields)


def draft_form(procedure: Procedure, actor: Actor) -> FormVersion:
    """The procedure's draft, made from the version in force (questions and documents) when there is none."""
    with transaction.atomic():
        locking.prefecture(procedure.prefecture_id)
        draft = FormVersion.objects.filter(procedure=procedure, published_at__isnull=True).first()
        if draft is not None:
            return draft
        latest = FormVersion.objects.filter(procedure=procedure).order_by("-number").first()
        draft = FormVersion.objects.create(
            procedure=procedure,
            number=(latest.number + 1) if latest else 1,
            documents=list(procedure.documents or []),
        )
        source = form_in_force(procedure)
        if source is not None:
            Question.objects.bulk_create(
                Question(
                    version=draft,
                    position=question.position,
                    key=question.key,
                    kind=question.kind,
                    labels=question.labels,
                    help_texts=question.help_texts,
                    choices=question.choices,
                    required=question.required,
                    condition_key=question.condition_key,
                    condition_values=question.condition_values,
                    limits=question.limits,
                )
                for question in source.questions.all()
            )
        _audit_form(draft, "draft_opened", actor)
        return draft


@dataclass
class QuestionData:
    key: str
    kind: str
    labels: dict[str, str]
    help_texts: dict[str, str]
    choices: list[dict]
    required: bool = True
    condition_key: str = ""
    condition_values: list[str] | None = None
    # The kind's limits (questions.LIMITS): max_length, min, max, integer, not_after_today.
    limits: dict | None = None


def _dependents_errors(question: Question, data: QuestionData) -> dict[str, list[str]]:
    """A question others depend on keeps its code, stays a yes/no or choice, and keeps the answers their
    conditions name."""
    dependents = list(question.version.questions.filter(condition_key=question.key).exclude(pk=question.pk))
    if not dependents:
        return {}
    names = ", ".join(dependent.key for dependent in dependents)
    if data.key != question.key:
        return {"key": [_("Questions %(keys)s depend on this code: change them first.") % {"keys": names}]}
    if data.kind == QuestionKind.YES_NO:
        allowed = {"yes", "no"}
    elif data.kind == QuestionKind.CHOICE:
        allowed = {choice.get("value") for choice in data.choices}
    else:
        return {
            "kind": [
                _("Questions %(keys)s depend on this one's answer: change them first.") % {"keys": names}
            ]
        }
    needed = {value for dependent in dependents for value in dependent.condition_values or []}
    if not needed <= allowed:
        return {
            "choices": [
                _("Questions %(keys)s are shown for answers this question would no longer have: %(values)s.")
                % {"keys": names, "values": ", ".join(sorted(needed - allowed))}
            ]
        }
    return {}


def _question_errors(draft: FormVersion, data: QuestionData, question_id: int | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    others = draft.questions.exclude(pk=question_id)
    _limits, limit_errors = clean_limits(data.kind, data.limits or {})
    for name, message in limit_errors.items():
        errors[f"limit_{name}"] = [message]
    if not data.key or slugify(data.key) != data.key or len(data.key) > 40:
        errors["key"] = [
            _("Give a short code of lowercase letters, digits and hyphens, e.g. marital-status.")
        ]
    elif others.filter(key=data.key).exists():
        errors["key"] = [_("Another question of this form has this code.")]
    if data.kind not in QuestionKind.values:
        errors["kind"] = [_("Choose the kind of answer.")]
    if not (data.labels.get("fr") or "").strip():
        errors["label_fr"] = [_("The question must be written in French at least.")]
    if any(len(text) > 500 for text in [*data.labels.values(), *data.help_texts.values()]):
        errors["label_fr"] = [_("A question or its help is at most 500 characters.")]
    if data.kind == QuestionKind.CHOICE:
        values = [choice.get("value") for choice in data.choices]
        if len(values) < 2 or len(set(values)) != len(values) or not all(values):
            errors["choices"] = [_("Give at least two answers, each with its own code.")]
    elif data.choices:
        errors["choices"] = [_("Only a choice question has a list of answers.")]
    if data.condition_key and question_id is not None:
        # A question shown only after an answer to one shown only after its own answer is never shown.
        parents = dict(others.values_list("key", "condition_key"))
        seen, key = set(), data.condition_key
        while key and key not in seen:
            if key == data.key:
                errors["condition_key"] = [_("The conditions would go round in a circle.")]
                break
            seen.add(key)
            key = parents.get(key, "")
    if data.condition_key and "condition_key" not in errors:
        condition = others.filter(key=data.condition_key).first()
        if condition is None:
            errors["condition_key"] = [_("No other question of this form has this code.")]
        elif not data.condition_values:
            errors["condition_values"] = [_("Say which answers show this question.")]
        else:
            allowed = (
                {"yes", "no"}
                if condition.kind == QuestionKind.YES_NO
                else {choice["value"] for choice in condition.choices}
            )
            if condition.kind not in {QuestionKind.YES_NO, QuestionKind.CHOICE}:
                errors["condition_key"] = [_("A condition can only depend on a yes/no or choice question.")]
            elif not set(data.condition_values) <= allowed:
                errors["condition_values"] = [
                    _("These answers do not exist for that question: %(values)s.")
                    % {"values": ", ".join(sorted(set(data.condition_values) - allowed))}
                ]
    return errors


def _locked_draft(draft: FormVersion) -> FormVersion:
    locking.prefecture(draft.procedure.prefecture_id)
    fresh = FormVersion.objects.select_related("procedure").get(pk=draft.pk)
    if not fresh.is_draft:
        raise Conflict("published", _("This version is already published: open a new draft to change it."))
    return fresh


def save_question(
    draft: FormVersion, data: QuestionData, actor: Actor, question_id: int | None = None
) -> Question:
    """Add a question to the draft (or change one of its questions)."""
    with transaction.atomic():
        draft = _locked_draft(draft)
        errors = _question_errors(draft, data, question_id)
        if question_id is None and draft.questions.count() >= MAX_QUESTIONS:
            errors.setdefault("key", []).append(
                _("A form has at most %(count)s questions.") % {"count": MAX_QUESTIONS}
            )
        if question_id is None:
            question = Question(version=draft, position=draft.questions.count() + 1)
        else:
            # Only a question of this draft: a published version's questions are never changed.
            question = draft.questions.filter(pk=question_id).first()
            if question is None:
                raise NotFound("not_found", _("This question is not in the draft."))
            errors.update(_dependents_errors(question, data))
        if errors:
            raise _invalid(errors)
        previous = None if question_id is None else _question_summary(question)
        question.key = data.key
        question.kind = data.kind
        question.labels = {lang: text.strip() for lang, text in data.labels.items() if text.strip()}
        question.help_texts = {lang: text.strip() for lang, text in data.help_texts.items() if text.strip()}
        question.choices = data.choices
        question.required = data.required
        question.condition_key = data.condition_key
        question.condition_values = list(data.condition_values or [])
        question.limits = clean_limits(data.kind, data.limits or {})[0]
        question.save()
        audit_data = {"key": question.key, "kind": question.kind}
        if previous is not None:
            now = _question_summary(question)
            audit_data["changed"] = sorted(name for name in now if now[name] != previous[name])
        _audit_form(draft, "question_saved", actor, audit_data)
        return question


def _question_summary(question: Question) -> dict:
    return {
        "key": question.key,
        "kind": question.kind,
        "labels": dict(question.labels),
        "help_texts": dict(question.help_texts or {}),
        "choices": list(question.choices or []),
        "required": question.required,
        "condition": [question.condition_key, list(question.condition_values or [])],
        "limits": dict(question.limits or {}),
    }


def remove_question(draft: FormVersion, question_id: int, actor: Actor) -> None:
    with transaction.atomic():
        draft = _locked_draft(draft)
        question = draft.questions.filter(pk=question_id).first()
        if question is None:
            raise NotFound("not_found", _("This question is not in the draft."))
        if draft.questions.filter(condition_key=question.key).exists():
            raise Conflict("in_use", _("Another question depends on this one: change that question first."))
        question.delete()
        _audit_form(draft, "question_removed", actor, {"key": question.key})


def set_draft_documents(draft: FormVersion, documents: Iterable[str], actor: Actor) -> FormVersion:
    cleaned = [" ".join(str(item).split()) for item in documents]
    cleaned = [item for item in cleaned if item]
    if any(len(item) > 300 for item in cleaned) or len(cleaned) > 40:
        raise _invalid({"documents": [_("At most 40 documents, each at most 300 characters.")]})
    with transaction.atomic():
        draft = _locked_draft(draft)
        draft.documents = cleaned
        draft.save(update_fields=["documents"])
        _audit_form(draft, "documents_saved", actor, {"documents": cleaned})
        return draft


def publish_form(draft: FormVersion, actor: Actor, user=None) -> FormVersion:
    """Put the draft in force: its questions for requests filed from now on, and its list of documents
    (a new checklist version when it differs from the one in force, R17)."""
    with transaction.atomic():
        draft = _locked_draft(draft)
        procedure = draft.procedure
        now = timezone.now()
        if list(procedure.documents or []) != list(draft.documents):
            procedure.documents = list(draft.documents)
            procedure.save(update_fields=["documents"])
        draft.checklist = current_checklist(procedure, at=now)
        draft.published_at = now
        draft.published_by = user
        draft.save(update_fields=["checklist", "published_at", "published_by"])
        _audit_form(
            draft,
            "published",
            actor,
            {
                "questions": list(draft.questions.values_list("key", flat=True)),
                "checklist": draft.checklist.number,
            },
        )
        return draft


def _audit_form(version: FormVersion, action: str, actor: Actor, data: dict | None = None) -> None:
    procedure = version.procedure
    record_change(
        procedure.prefecture.code,
        Change(
            action=f"dossiers.form.{action}",
            object_type="form_version",
            object_id=str(version.pk),
            actor=actor,
            data={"procedure": procedure.code, "version": version.number, **(data or {})},
        ),
    )
