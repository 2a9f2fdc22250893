"""The dossier in the back office: review by agents, paper scanned at the counter or received by post,
answers typed for a person, and the manager's form editor. A partner under mandate sees and completes the
dossier of their client (no review). Every opening of a dossier or a file is logged (R27)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from guichet.accounts import permissions
from guichet.accounts.models import AccessChannel, Role
from guichet.backoffice import services as backoffice
from guichet.backoffice.decorators import prefecture_role, verified_required
from guichet.catalog.models import Procedure
from guichet.errors import DomainError, NotFound

from .. import publishing, services
from ..forms import AnswersForm, UploadForm
from ..models import DocumentSource, DocumentStatus, FormVersion, Question
from ..staff_forms import DocumentsForm, QuestionForm, StaffUploadForm
from .common import apply_error, dossier_context, open_document


def _found(request, reference: str, *, log: bool = False):
    try:
        if log:
            return backoffice.open_request(request.user, reference, channel=AccessChannel.PAGE)
        return backoffice.get_visible_request(request.user, reference)
    except NotFound:
        raise Http404 from None


def _is_agent(request, found) -> bool:
    return permissions.has_role(request.user, found.prefecture_id, Role.AGENT)


class ReviewForm(forms.Form):
    """One decision and reason per current document, plus the revision the reviewer read."""

    revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.documents = documents
        for document in documents:
            self.fields[f"decision_{document.pk}"] = forms.ChoiceField(
                label=document.label,
                required=False,
                widget=forms.RadioSelect,
                choices=[
                    ("", _("Not reviewed now")),
                    ("accept", DocumentStatus.ACCEPTED.label),
                    ("correct", DocumentStatus.TO_CORRECT.label),
                ],
                initial={DocumentStatus.ACCEPTED: "accept", DocumentStatus.TO_CORRECT: "correct"}.get(
                    document.status, ""
                ),
            )
            self.fields[f"reason_{document.pk}"] = forms.CharField(
                label=_("What to correct (the person reads it)"),
                required=False,
                max_length=services.MAX_REASON * 2,
                initial=document.reason,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def decisions(self) -> list[services.Decision]:
        chosen = []
        for document in self.documents:
            decision = self.cleaned_data.get(f"decision_{document.pk}")
            if decision:
                chosen.append(
                    services.Decision(
                        document.pk, decision == "accept", self.cleaned_data.get(f"reason_{document.pk}", "")
                    )
                )
        return chosen


def _context(request, found, **forms_given):
    dossier = services.dossier_for(found)
    context = dossier_context(dossier)
    is_agent = _is_agent(request, found)
    current = [item.document for item in context["items"] if item.document is not None]
    context.update(
        req=found,
        is_agent=is_agent,
        answers_form=forms_given.get("answers_form")
        or AnswersForm(questions=context["questions"], answers=context["answers"]),
        review_form=forms_given.get("review_form")
        or ReviewForm(documents=current, initial={"revision": dossier.revision}),
        upload_rows=[
            (
                item,
                forms_given.get(f"upload_{item.code}")
                or (StaffUploadForm if is_agent else UploadForm)(prefix=item.code),
            )
            for item in context["items"]
        ],
        history=dossier.documents.filter(replaced_at__isnull=False).order_by("-uploaded_at")[:20],
    )
    return context


@verified_required
@require_http_methods(["GET", "POST"])
def dossier(request, reference: str):
    found = _found(request, reference, log=request.method == "GET")
    status = 200
    given = {}
    if request.method == "POST":
        dossier = services.dossier_for(found)
        context = dossier_context(dossier)
        form = AnswersForm(request.POST, questions=context["questions"], answers=context["answers"])
        if form.is_valid():
            try:
                services.save_answers(found, form.raw_answers(), permissions.actor_for(request.user))
            except DomainError as error:
                apply_error(form, error)
            else:
                messages.success(request, _("The answers are saved."))
                return redirect("dossiers:staff_dossier", reference=found.reference)
        given["answers_form"] = form
        status = 422
    return render(request, "dossiers/staff/dossier.html", _context(request, found, **given), status=status)


@verified_required
@require_POST
def upload(request, reference: str, item: str):
    found = _found(request, reference)
    is_agent = _is_agent(request, found)
    form = (StaffUploadForm if is_agent else UploadForm)(request.POST, request.FILES, prefix=item)
    if form.is_valid():
        source = form.cleaned_data["source"] if is_agent else DocumentSource.PARTNER
        try:
            services.upload_document(
                found,
                item,
                form.cleaned_data["file"],
                permissions.actor_for(request.user),
                source=source,
                user=request.user,
            )
        except DomainError as error:
            apply_error(form, error, field="file")
        else:
            messages.success(request, _("The document is added to the dossier."))
            return redirect("dossiers:staff_dossier", reference=found.reference)
    context = _context(request, found, **{f"upload_{item}": form})
    return render(request, "dossiers/staff/dossier.html", context, status=422)


@verified_required
@require_POST
def review(request, reference: str):
    found = _found(request, reference)
    if not _is_agent(request, found):
        raise Http404
    dossier = services.dossier_for(found)
    current = list(dossier.documents.filter(replaced_at__isnull=True))
    form = ReviewForm(request.POST, documents=current)
    if form.is_valid():
        try:
            result = services.review_dossier(
                found,
                form.decisions(),
                permissions.actor_for(request.user),
                user=request.user,
                expected_revision=form.cleaned_data["revision"],
            )
        except DomainError as error:
            apply_error(form, error)
        else:
            messages.success(
                request,
                _("Review saved. The dossier is now: %(state)s.") % {"state": result.get_state_display()},
            )
            return redirect("dossiers:staff_dossier", reference=found.reference)
    return render(
        request, "dossiers/staff/dossier.html", _context(request, found, review_form=form), status=422
    )


@verified_required
def document(request, reference: str, document_id: int):
    found = _found(request, reference)
    return open_document(found, document_id, user=request.user, channel=AccessChannel.PAGE)


# --- the manager's form editor ----------------------------------------------------------------------------


@prefecture_role(Role.MANAGER)
def forms_list(request, prefecture):
    procedures = Procedure.objects.filter(prefecture=prefecture).order_by("name")
    rows = [
        {
            "procedure": procedure,
            "in_force": services.form_in_force(procedure),
            "draft": FormVersion.objects.filter(procedure=procedure, published_at__isnull=True).first(),
        }
        for procedure in procedures
    ]
    return render(request, "dossiers/staff/forms_list.html", {"prefecture": prefecture, "rows": rows})


def _question_data(form: QuestionForm) -> publishing.QuestionData:

    data = form.cleaned_data
    return publishing.QuestionData(
        key=data["key"],
        kind=data["kind"],
        labels={code: data.get(f"label_{code}", "") for code, _name in settings.LANGUAGES},
        help_texts={code: data.get(f"help_{code}", "") for code, _name in settings.LANGUAGES},
        choices=form.parsed_choices(),
        required=data["required"],
        condition_key=data["condition_key"].strip(),
        condition_values=[v.strip() for v in data["condition_values"].split(",") if v.strip()],
        limits=form.limits(),
    )


def _draft_question(draft: FormVersion | None, raw: str | None) -> Question | None:
    """The draft's question named by an id in the address or the form; None when there is none."""
    if draft is None or not raw:
        return None
    try:
        return draft.questions.filter(pk=int(raw)).first()
    except ValueError:
        return None


PUBLISH_HELP = gettext_lazy(
    "Publishing puts this version in force for requests filed from now on; requests already filed keep "
    "their version."
)


@prefecture_role(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def form_editor(request, prefecture, procedure_code: str):
    procedure = get_object_or_404(Procedure, prefecture=prefecture, code=procedure_code)
    actor = permissions.actor_for(request.user)
    draft = FormVersion.objects.filter(procedure=procedure, published_at__isnull=True).first()
    editing = _draft_question(draft, request.GET.get("edit"))
    question_form = QuestionForm(prefix="q", initial=QuestionForm.initial_for(editing) if editing else None)
    documents_form = DocumentsForm(
        prefix="d", initial={"documents": "\n".join(draft.documents if draft else procedure.documents or [])}
    )
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        draft = publishing.draft_form(procedure, actor)
        try:
            if action == "question":
                question_form = QuestionForm(request.POST, prefix="q")
                raw_id = request.POST.get("question")
                editing = _draft_question(draft, raw_id)
                if raw_id and editing is None:
                    raise NotFound("not_found", _("This question is not in the draft."))
                if question_form.is_valid():
                    publishing.save_question(
                        draft, _question_data(question_form), actor, editing.pk if editing else None
                    )
                    messages.success(
                        request,
                        _("The question is changed in the draft.")
                        if editing
                        else _("The question is added to the draft."),
                    )
                    return redirect(
                        "dossiers:form_editor", code=prefecture.code, procedure_code=procedure.code
                    )
                status = 422
            elif action == "remove":
                publishing.remove_question(draft, int(request.POST.get("question", "0") or 0), actor)
                messages.success(request, _("The question is removed from the draft."))
                return redirect("dossiers:form_editor", code=prefecture.code, procedure_code=procedure.code)
            elif action == "documents":
                documents_form = DocumentsForm(request.POST, prefix="d")
                if documents_form.is_valid():
                    publishing.set_draft_documents(
                        draft, documents_form.cleaned_data["documents"].splitlines(), actor
                    )
                    messages.success(request, _("The list of documents of the draft is saved."))
                    return redirect(
                        "dossiers:form_editor", code=prefecture.code, procedure_code=procedure.code
                    )
                status = 422
            elif action == "open":
                messages.success(
                    request,
                    _("Draft version %(number)s is open: change it, then publish it.")
                    % {"number": draft.number},
                )
                return redirect("dossiers:form_editor", code=prefecture.code, procedure_code=procedure.code)
            elif action == "publish":
                version = publishing.publish_form(draft, actor, user=request.user)
                messages.success(request, _("Version %(number)s is published.") % {"number": version.number})
                return redirect("dossiers:form_editor", code=prefecture.code, procedure_code=procedure.code)
        except ValueError:
            raise Http404 from None
        except DomainError as error:
            target = question_form if action == "question" else documents_form
            apply_error(target, error)
            status = 422
    context = {
        "prefecture": prefecture,
        "procedure": procedure,
        "draft": draft,
        "in_force": services.form_in_force(procedure),
        "versions": FormVersion.objects.filter(procedure=procedure, published_at__isnull=False),
        "question_form": question_form,
        "editing": editing,
        "documents_form": documents_form,
        "publish_help": PUBLISH_HELP,
    }
    return render(request, "dossiers/staff/form_editor.html", context, status=status)
