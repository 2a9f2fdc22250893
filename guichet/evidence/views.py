"""Evidence pages: a proof (page, PDF, raw JWS), a request's proofs, the court file, /verify, court orders.

Thin: each view reads its input, checks access (permissions.py), calls one service and renders. A proof
belongs to its applicant: it opens with the request's access token (`?token=`), or for staff.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from guichet.appointments import convocations
from guichet.waitlist.models import AppointmentRequest
from guichet.waitlist.references import InvalidReference, parse_reference, token_matches

from . import court_file, figures, pdf, permissions, presentation, services, signing
from .forms import VerifyForm
from .models import Proof, SigningKey

# Bodies above this are refused before Django parses them: a proof is about a kilobyte.
MAX_VERIFY_BODY = signing.MAX_TOKEN_LENGTH * 4


def _private(response: HttpResponse) -> HttpResponse:
    """Pages that carry a person's data or access token: never cached, never sent as a referrer."""
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _access_token(request) -> str:
    value = (
        request.GET.get("token") or request.POST.get("token") or request.headers.get("X-Access-Token") or ""
    )
    return value.strip()[:200]


def _load_request(reference: str) -> AppointmentRequest | None:
    try:
        reference = parse_reference(reference)
    except InvalidReference:
        return None
    return (
        AppointmentRequest.objects.select_related("prefecture", "procedure")
        .filter(reference=reference)
        .first()
    )


def _readable_request(http_request, reference: str, what: str) -> AppointmentRequest:
    """The request if this visitor may read it; otherwise 404, the same for a wrong token or reference.
    A staff or partner read is logged, saying `what` was read."""
    found = _load_request(reference)
    token = _access_token(http_request)
    if found is None:
        # Spend the same hash comparison, so that timing does not tell an unknown reference.
        token_matches(token, "")
        raise Http404
    if not permissions.can_read_request(http_request, found, token):
        raise Http404
    permissions.record_read(http_request, found, token, what)
    return found


def _readable_proof(http_request, pk: int, what: str) -> Proof:
    proof = Proof.objects.select_related("request__prefecture", "request__procedure").filter(pk=pk).first()
    token = _access_token(http_request)
    if proof is None or not permissions.can_read_request(http_request, proof.request, token):
        raise Http404
    permissions.record_read(http_request, proof.request, token, f"{what} {proof.pk}")
    return proof


def _token_query(http_request, req: AppointmentRequest) -> str:
    """The query that keeps the applicant's access on the next link (nothing for staff)."""
    token = _access_token(http_request)
    if token and permissions.token_matches(req, token):
        return "?" + urlencode({"token": token})
    return ""


def _content_of(proof: Proof, keys: dict[str, bytes]) -> tuple[presentation.ProofContent | None, str]:
    try:
        return presentation.describe(signing.parse_and_verify(proof.token, keys).payload), ""
    except signing.TokenError as error:
        return None, error.message


# --- a proof --------------------------------------------------------------------------------------------


def proof_page(request, pk: int):
    proof = _readable_proof(request, pk, "proof")
    content, error = _content_of(proof, services.published_keys())
    query = _token_query(request, proof.request)
    return _private(
        render(
            request,
            "evidence/proof.html",
            {
                "proof": proof,
                "req": proof.request,
                "content": content,
                "error": error,
                "qr": pdf.proof_qr(proof.token),
                "verify_url": pdf.verify_url(proof.token),
                "query": query,
            },
        )
    )


def proof_jws(request, pk: int):
    proof = _readable_proof(request, pk, "proof (JWS)")
    response = HttpResponse(proof.token + "\n", content_type="text/plain; charset=us-ascii")
    response["Content-Disposition"] = f'inline; filename="{proof.request.reference}-{proof.pk}.jws"'
    return _private(response)


def _pdf_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _private(response)


def proofs_pdf_context(req: AppointmentRequest, proofs: list[Proof]) -> dict:
    keys = services.published_keys()
    rows = []
    for proof in proofs:
        content, error = _content_of(proof, keys)
        rows.append({"proof": proof, "content": content, "error": error, "qr": pdf.proof_qr(proof.token)})
    return {"req": req, "rows": rows, "site_url": settings.SITE_URL, "generated": timezone.now()}


def proof_pdf(request, pk: int):
    proof = _readable_proof(request, pk, "proof (PDF)")
    body = pdf.render_pdf("evidence/pdf/proofs.html", proofs_pdf_context(proof.request, [proof]))
    return _pdf_response(body, f"{proof.request.reference}-{proof.pk}.pdf")


# --- a request's proofs -------------------------------------------------------------------------------


def request_proofs(request, reference: str):
    req = _readable_request(request, reference, "proofs")
    keys = services.published_keys()
    rows = []
    for proof in services.proofs_of(req):
        content, error = _content_of(proof, keys)
        rows.append({"proof": proof, "content": content, "error": error})
    available, reason = court_file.court_file_available(req)
    return _private(
        render(
            request,
            "evidence/request_proofs.html",
            {
                "req": req,
                "rows": rows,
                "query": _token_query(request, req),
                "court_file_available": available,
                "court_file_reason": reason,
            },
        )
    )


def request_proofs_pdf(request, reference: str):
    req = _readable_request(request, reference, "proofs (PDF)")
    proofs = list(services.proofs_of(req))
    if not proofs:
        raise Http404
    body = pdf.render_pdf("evidence/pdf/proofs.html", proofs_pdf_context(req, proofs))
    return _pdf_response(body, f"{req.reference}-proofs.pdf")


def court_file_pdf(request, reference: str):
    req = _readable_request(request, reference, "court file")
    available, reason = court_file.court_file_available(req)
    if not available:
        response = render(
            request,
            "evidence/court_file_unavailable.html",
            {"req": req, "reason": reason, "query": _token_query(request, req)},
            status=403,
        )
        return _private(response)
    body = court_file.render_court_file(req, figures=figures.quoted_figures(req))
    return _pdf_response(body, f"dossier-refere-{req.reference}.pdf")


# --- /verify ----------------------------------------------------------------------------------------------


def verification_result(token) -> dict:
    """What the page and the API say about a token: valid (with its key and content) or why not."""
    try:
        verified = services.verify_token(token)
    except signing.TokenError as error:
        return {"valid": False, "code": error.code, "message": error.message}
    key = SigningKey.objects.filter(kid=verified.kid).first()
    return {
        "valid": True,
        "kid": verified.kid,
        "key": key,
        "payload": verified.payload,
        "content": presentation.describe(verified.payload),
        # A genuine confirmation of an appointment since moved or cancelled: its convocation is not valid.
        "convocation": convocations.for_proof(verified.payload),
    }


# Checking a proof reads and changes nothing, so it needs no CSRF protection; and the page must not send the
# proof it shows as a referrer ("no-referrer"), which makes browsers send "Origin: null" with its own form,
# which CSRF protection refused: every pasted proof got a 403.
@csrf_exempt
@require_http_methods(["GET", "POST", "HEAD"])
def verify(request):
    result = None
    form = VerifyForm()
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_VERIFY_BODY:
            result = {
                "valid": False,
                "code": "too_long",
                "message": _("This text is too long to be a proof."),
            }
        elif not _is_utf8(request.body):
            result = _not_utf8()
        else:
            form = VerifyForm(request.POST)
            text = request.POST.get("t", "")
            result = _verify_text(text)
    elif "t" in request.GET:
        text = request.GET.get("t", "")
        form = VerifyForm(initial={"t": text[:MAX_VERIFY_BODY]})
        result = _verify_text(text)
    response = render(request, "evidence/verify.html", {"form": form, "result": result})
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _not_utf8() -> dict:
    return {
        "valid": False,
        "code": "not_utf8",
        "message": _("This text is not valid UTF-8 text, so it cannot be a proof."),
    }


def _verify_text(text: str) -> dict:
    # Django decodes percent-encoded bytes that are not UTF-8 as replacement characters.
    if "\ufffd" in text:
        return _not_utf8()
    return verification_result(text)


# --- well-known ---------------------------------------------------------------------------------------


def jwks(request):
    response = JsonResponse(services.jwk_set())
    response["Content-Type"] = "application/jwk-set+json"
    # Keys change rarely (rotation); verifiers may cache briefly. Anyone may read them, from anywhere.
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response
