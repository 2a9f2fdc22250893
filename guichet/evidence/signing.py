"""Ed25519 keys and JWS compact tokens (RFC 7515, alg EdDSA per RFC 8037).

The private keys live outside the database: in the file named by SIGNING_KEY_FILE (generated on first
use in development) or in SIGNING_KEY_PEM (production). The database keeps only the public halves, so
that every key ever used stays published at /.well-known/jwks.json after a rotation.

Verification is strict on purpose: a proof is only ever our own compact EdDSA token, so anything else
(another algorithm, `none`, HMAC, unknown extensions, duplicate header members, a signature of the
wrong length) is refused with a stable code and a message for people.
"""

import base64
import binascii
import contextlib
import datetime
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.utils.translation import gettext as _

# A proof is about 1 kB; 16 kB leaves room for long names and details while refusing junk early.
MAX_TOKEN_LENGTH = 16_384
B64URL_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
ED25519_SIGNATURE_LENGTH = 64
# We sign with "EdDSA" (RFC 8037); RFC 9864 names the same Ed25519 signature "Ed25519". Only Ed25519 keys are
# ever published, so both names mean exactly one thing here.
ACCEPTED_ALGORITHMS = frozenset({"EdDSA", "Ed25519"})


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text or any(c not in B64URL_ALPHABET for c in text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(decoded) != text:
        # Non-canonical trailing bits would let two different texts carry the same signature.
        raise ValueError("not canonical base64url")
    return decoded


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64(key: Ed25519PublicKey) -> str:
    return b64url(raw_public_key(key))


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """A key id derived from the key itself (RFC 7638 thumbprint), so it can never name two keys."""
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw_public_key(public_key))}
    return b64url(hashlib.sha256(canonical_json(jwk)).digest())[:22]


def public_jwk(kid: str, x: str) -> dict:
    """One entry of the JWK set (RFC 8037): what any JOSE library needs to verify our proofs."""
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}


def public_key_pem(x: str) -> str:
    """The SubjectPublicKeyInfo PEM of a published key, the form `openssl pkeyutl -pubin` reads."""
    key = Ed25519PublicKey.from_public_bytes(b64url_decode(x))
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


@dataclass(frozen=True)
class KeyPair:
    kid: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


def _pem(private_key: Ed25519PrivateKey) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def _load_pem(text: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key is not an Ed25519 key")
    return key


def _key_file() -> Path:
    return Path(settings.SIGNING_KEY_FILE)


@contextlib.contextmanager
def _key_file_lock():
    """Serialise the processes that create or extend the key file (web workers, clock, worker).

    Without it two processes starting together could each generate a first key, and one of them would
    sign with a private key that no longer exists anywhere.
    """
    path = _key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_key_file() -> list[str]:
    path = _key_file()
    if not path.exists():
        return []
    return json.loads(path.read_text())["keys"]


def _write_key_file(pems: list[str]) -> None:
    path = _key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"keys": pems}, indent=1))
    tmp.chmod(0o600)
    os.replace(tmp, path)


_KEY_CACHE: dict[tuple[str, str], KeyPair] = {}


def current_key() -> KeyPair:
    """The key that signs now: SIGNING_KEY_PEM if set, else the newest key of the key file.

    Cached per (file, PEM), so that a test overriding the settings gets its own key.
    """
    cache_key = (str(settings.SIGNING_KEY_FILE), settings.SIGNING_KEY_PEM)
    if cache_key in _KEY_CACHE:
        return _KEY_CACHE[cache_key]
    if settings.SIGNING_KEY_PEM:
        private_key = _load_pem(settings.SIGNING_KEY_PEM)
    else:
        pems = _read_key_file()
        if not pems:
            with _key_file_lock():
                pems = _read_key_file()
                if not pems:
                    pems = [_pem(Ed25519PrivateKey.generate())]
                    _write_key_file(pems)
        private_key = _load_pem(pems[-1])
    pair = KeyPair(kid=key_id_for(private_key.public_key()), private_key=private_key)
    _KEY_CACHE[cache_key] = pair
    return pair


def clear_key_cache() -> None:
    _KEY_CACHE.clear()


def add_key_to_file() -> KeyPair:
    """Append a new key to the key file; it signs from now on. Old keys stay in the file."""
    with _key_file_lock():
        pems = _read_key_file()
        new_key = Ed25519PrivateKey.generate()
        _write_key_file([*pems, _pem(new_key)])
    clear_key_cache()
    return KeyPair(kid=key_id_for(new_key.public_key()), private_key=new_key)


def sign(payload: dict, key: KeyPair) -> str:
    header = {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    signing_input = f"{b64url(canonical_json(header))}.{b64url(canonical_json(payload))}"
    signature = key.private_key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"


class TokenError(ValueError):
    """Why a token is not a valid proof; `code` is stable, the message is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class VerifiedToken:
    kid: str
    header: dict
    payload: dict


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    # RFC 7515 §4: a header with duplicate members must be rejected (or parsed with the last one, which
    # would let `{"alg":"none","alg":"EdDSA"}` mean different things to different readers).
    result: dict = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _json_part(text: str) -> object:
    return json.loads(b64url_decode(text).decode("utf-8"), object_pairs_hook=_no_duplicates)


def normalise_input(text: str | bytes | None) -> str:
    """What people paste: a token, maybe broken over lines, maybe the whole verification URL."""

    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # UnicodeDecodeError is turned into a reason by the caller
    if len(text) > MAX_TOKEN_LENGTH * 2:
        return text  # refused as too long below, without scanning it
    text = text.strip()
    if text.startswith(("http://", "https://")) and "?" in text:
        values = parse_qs(urlsplit(text).query).get("t")
        if values:
            text = values[0]
    # A token has no whitespace; copying it from a PDF or an email often adds line breaks.
    return "".join(text.split())


@lru_cache(maxsize=64)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def parse_and_verify(token: str | bytes | None, public_keys: dict[str, bytes]) -> VerifiedToken:
    """Check a compact JWS against the published keys. Raises TokenError with a reason."""

    unreadable = _("This text is damaged or incomplete: it cannot be read.")
    try:
        token = normalise_input(token)
    except UnicodeDecodeError:
        raise TokenError(
            "not_utf8", _("This text is not valid UTF-8 text, so it cannot be a proof.")
        ) from None
    if not token:
        raise TokenError("empty", _("No token was given."))
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenError(
            "too_long",
            _("This text is too long to be a proof (at most %(max)s characters).")
            % {"max": MAX_TOKEN_LENGTH},
        )
    if not token.isascii():
        raise TokenError("malformed", _("A proof contains only letters, digits, “-”, “_” and dots."))
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("malformed", _("A proof has three parts separated by dots; this text does not."))
    # The header first, so that a token of another algorithm is named for what it is.
    try:
        header = _json_part(parts[0])
    except (ValueError, UnicodeDecodeError, binascii.Error, RecursionError):
        raise TokenError("malformed", unreadable) from None
    if not isinstance(header, dict):
        raise TokenError("malformed", unreadable)
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise TokenError(
            "bad_algorithm",
            _("This token uses the algorithm “%(alg)s”; Guichet proofs are signed with EdDSA only.")
            % {"alg": str(alg)[:20]},
        )
    if "crit" in header or header.get("b64", True) is not True:
        raise TokenError("unsupported", _("This token asks for extensions Guichet does not use."))
    if any(name in header for name in ("jwk", "jku", "x5u", "x5c")):
        # A token must not bring its own key: only the keys this service publishes count.
        raise TokenError("unsupported", _("This token carries its own key; only published keys count."))
    try:
        payload = _json_part(parts[1])
    except (ValueError, UnicodeDecodeError, binascii.Error, RecursionError):
        raise TokenError("malformed", unreadable) from None
    if not isinstance(payload, dict):
        raise TokenError("malformed", unreadable)
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in public_keys:
        raise TokenError("unknown_key", _("This token was not signed by a key published by this service."))
    try:
        signature = b64url_decode(parts[2])
    except (ValueError, binascii.Error):
        signature = b""
    if len(signature) != ED25519_SIGNATURE_LENGTH:
        raise TokenError(
            "bad_signature", _("The signature is missing or incomplete: the token was cut or changed.")
        )
    public_key = _public_key(public_keys[kid])
    try:
        public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
    except InvalidSignature:
        raise TokenError(
            "bad_signature",
            _("The signature does not match: the content was changed or signed by someone else."),
        ) from None
    return VerifiedToken(kid=kid, header=header, payload=payload)


def utc_iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
