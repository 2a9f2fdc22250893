"""/verify and POST /api/v1/proofs/verify: valid proofs are recognised and shown in plain words; anything
else is refused with a reason, and nothing ever answers 500."""

import json
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guichet.evidence import pdf, services, signing
from guichet.evidence.models import Proof

from .helpers import make_request

API = "/api/v1/proofs/verify"


@pytest.fixture
def proof(world):
    request, _ = make_request(world, family_names="El Idrissi", given_names="Youssef")
    return Proof.objects.get(request=request)


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    data = json.loads(signing.b64url_decode(payload))
    data["due_date"] = "2020-01-01"
    return f"{header}.{signing.b64url(signing.canonical_json(data))}.{signature}"


def resigned_with_another_key(token: str, *, same_kid: bool) -> str:
    header, payload, _ = token.split(".")
    kid = json.loads(signing.b64url_decode(header))["kid"]
    private = Ed25519PrivateKey.generate()
    stranger = signing.KeyPair(
        kid=kid if same_kid else signing.key_id_for(private.public_key()), private_key=private
    )
    return signing.sign(json.loads(signing.b64url_decode(payload)), stranger)


def with_header(token: str, header: dict, signature: str | None = None) -> str:
    _, payload, original = token.split(".")
    signature = original if signature is None else signature
    return f"{signing.b64url(json.dumps(header).encode())}.{payload}.{signature}"


def bad_tokens(token: str) -> dict[str, tuple[str, str]]:
    kid = token and json.loads(signing.b64url_decode(token.split(".")[0]))["kid"]
    return {
        "tampered": (tampered(token), "bad_signature"),
        "truncated": (token[:-10], "bad_signature"),
        "cut in the middle": (token[: len(token) // 2], "malformed"),
        "re-signed with another key": (resigned_with_another_key(token, same_kid=False), "unknown_key"),
        "re-signed under our kid": (resigned_with_another_key(token, same_kid=True), "bad_signature"),
        "alg none": (with_header(token, {"alg": "none", "kid": kid}, ""), "bad_algorithm"),
        "alg HS256": (with_header(token, {"alg": "HS256", "kid": kid}), "bad_algorithm"),
        "duplicate alg": (
            signing.b64url(b'{"alg":"none","alg":"EdDSA","kid":"' + kid.encode() + b'"}')
            + "."
            + token.split(".", 1)[1],
            "malformed",
        ),
        "crit": (with_header(token, {"alg": "EdDSA", "kid": kid, "crit": ["exp"]}), "unsupported"),
        "oversized": ("A" * (signing.MAX_TOKEN_LENGTH + 1), "too_long"),
        "empty": ("   ", "empty"),
        "not a token": ("hello world", "malformed"),
        "non-canonical base64": (token[:-1] + ("B" if token[-1] == "A" else "A"), "bad_signature"),
    }


def test_verify_page_without_token_shows_the_form(db, client):
    response = client.get("/fr/verify/")
    assert response.status_code == 200
    assert b'name="t"' in response.content and b"<label" in response.content


def test_valid_proof_by_get_and_post(proof, client):
    for response in (
        client.get("/en/verify/", {"t": proof.token}),
        client.post("/en/verify/", {"t": proof.token}),
    ):
        assert response.status_code == 200
        text = response.content.decode()
        assert "Valid: this proof is genuine and unchanged." in text
        assert proof.kid in text
        assert proof.request.reference in text
        assert "Youssef El Idrissi" in text
        assert "Request received" in text
        assert response["Referrer-Policy"] == "no-referrer"


def test_the_qr_code_address_lands_on_the_verify_page(proof, client):
    qr = pdf.proof_qr(proof.token, "fr")
    assert qr is not None and qr.carries == "url"
    assert qr.version <= pdf.MAX_QR_VERSION
    url = urlsplit(qr.data)
    assert qr.data.startswith("https://guichet.example.org/fr/verify/?t=")
    response = client.get(f"{url.path}?{url.query}")
    assert response.context["result"]["valid"] is True


def test_pasted_with_line_breaks_or_as_the_whole_address(proof, client):
    broken = "\n".join(proof.token[i : i + 60] for i in range(0, len(proof.token), 60))
    assert client.post("/fr/verify/", {"t": broken}).context["result"]["valid"] is True
    address = pdf.verify_url(proof.token, "fr")
    assert client.post("/fr/verify/", {"t": address}).context["result"]["valid"] is True


def test_bad_tokens_are_refused_with_a_reason(proof, client):
    for name, (token, code) in bad_tokens(proof.token).items():
        with pytest.raises(signing.TokenError) as refused:
            services.verify_token(token)
        assert refused.value.code == code, name
        assert refused.value.message, name
        response = client.post("/en/verify/", {"t": token})
        assert response.status_code == 200, name
        result = response.context["result"]
        assert result == {"valid": False, "code": code, "message": refused.value.message}, name
        assert "Not valid" in response.content.decode(), name


def test_non_utf8_input_is_refused_with_a_reason(db, client):
    response = client.post(
        "/en/verify/", data=b"t=\xff\xfe\xfa", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert response.context["result"]["code"] == "not_utf8"
    response = client.get("/en/verify/?t=%FF%FE")
    assert response.context["result"]["code"] == "not_utf8"


def test_a_huge_post_is_refused_before_parsing(db, client):
    response = client.post("/en/verify/", {"t": "A" * 200_000})
    assert response.status_code == 200
    assert response.context["result"]["code"] == "too_long"


def test_api_verify_valid_and_invalid(proof, client):
    response = client.post(API, {"token": proof.token}, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["kid"] == proof.kid
    assert body["payload"]["ref"] == proof.request.reference
    for name, (token, code) in bad_tokens(proof.token).items():
        response = client.post(API, {"token": token}, content_type="application/json")
        assert response.status_code == 200, name
        body = response.json()
        assert body["valid"] is False and body["code"] == code and body["message"], name
        assert "payload" not in body or body["payload"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"token": "\xff"}', 400, "not_utf8"),
        (b"not json", 400, "invalid_json"),
        (b"[" * 5000, 400, "too_deep"),
        (b"{}", 422, "invalid"),
        (b'{"token": 42}', 422, "invalid"),
        (b'"just a string"', 422, "invalid"),
        (b'{"token": "' + b"A" * 40_000 + b'"}', 413, "too_long"),
    ],
)
def test_api_verify_bad_bodies(db, client, body, status, code):
    response = client.post(API, data=body, content_type="application/json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]


def test_checkpoint_tokens_verify_too(world, client):
    make_request(world)
    (checkpoint,) = [c for c in services.checkpoint_audit() if c.chain == "93"]
    response = client.post("/en/verify/", {"t": checkpoint.token})
    assert response.context["result"]["valid"] is True
    assert "Audit log checkpoint" in response.content.decode()


@given(text=st.text(max_size=300))
@settings(max_examples=150, deadline=None)
def test_parse_never_raises_anything_but_a_reason(text):
    keys = {"k": signing.raw_public_key(Ed25519PrivateKey.generate().public_key())}
    try:
        signing.parse_and_verify(text, keys)
    except signing.TokenError as error:
        assert error.code and error.message
    else:
        pytest.fail("random text verified")


@given(
    parts=st.lists(
        st.one_of(
            st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=60),
            st.just("eyJhbGciOiJFZERTQSJ9"),
        ),
        min_size=1,
        max_size=4,
    )
)
@settings(max_examples=150, deadline=None)
def test_parse_of_token_shaped_junk(parts):
    keys = {"k": signing.raw_public_key(Ed25519PrivateKey.generate().public_key())}
    with pytest.raises(signing.TokenError):
        signing.parse_and_verify(".".join(parts), keys)


@pytest.mark.django_db
@given(text=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_page_and_api_never_answer_500(client, text):
    refused = "\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)  # at the edge (guichet/edge.py)
    page = client.post("/fr/verify/", {"t": text})
    assert page.status_code == (400 if "\x00" in text else 200)
    if page.status_code == 200:
        assert page.context["result"]["valid"] is False
    api = client.post(API, {"token": text}, content_type="application/json")
    assert api.status_code == (400 if refused else 200)
    if not refused:
        assert api.json()["valid"] is False
    raw = client.post(API, data=text.encode("utf-8", "surrogatepass"), content_type="application/json")
    assert raw.status_code in {200, 400, 422}


def test_api_verify_needs_no_csrf_token_or_session(proof):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(API, {"token": proof.token}, content_type="application/json")
    assert response.status_code == 200 and response.json()["valid"] is True
