"""Ed25519 keys and JWS compact tokens (RFC 7515, alg EdDSA per RFC 8037).

The private keys live outside the database: in the file named by SIGNING_KEY_FILE (generated on first
use in development) or in SIGNING_KEY_PEM (production). The database keeps only the public halves, so
that every key ever used stays published at /.well-known/jwks.json after a rotation.
"""

import base64
import datetime
import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

MAX_TOKEN_LENGTH = 16_384


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text or any(
        c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text
    ):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical_json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """A key id derived from the key itself (RFC 7638 thumbprint), so it can never name two keys."""
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": b64url(raw_public_key(public_key))}
    return b64url(hashlib.sha256(canonical_json(jwk)).digest())[:22]


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


def _read_key_file() -> list[str]:
    path = settings.SIGNING_KEY_FILE
    if not path.exists():
        return []
    return json.loads(path.read_text())["keys"]


def _write_key_file(pems: list[str]) -> None:
    path = settings.SIGNING_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"keys": pems}, indent=1))
    tmp.chmod(0o600)
    os.replace(tmp, path)


@lru_cache(maxsize=1)
def current_key() -> KeyPair:
    """The key that signs now: SIGNING_KEY_PEM if set, else the newest key of the key file."""
    if settings.SIGNING_KEY_PEM:
        private_key = _load_pem(settings.SIGNING_KEY_PEM)
    else:
        pems = _read_key_file()
        if not pems:
            pems = [_pem(Ed25519PrivateKey.generate())]
            _write_key_file(pems)
        private_key = _load_pem(pems[-1])
    return KeyPair(kid=key_id_for(private_key.public_key()), private_key=private_key)


def add_key_to_file() -> KeyPair:
    """Append a new key to the key file; it signs from now on. Old keys stay in the file."""
    pems = _read_key_file()
    new_key = Ed25519PrivateKey.generate()
    _write_key_file([*pems, _pem(new_key)])
    current_key.cache_clear()
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


@dataclass(frozen=True)
class VerifiedToken:
    kid: str
    header: dict
    payload: dict


def parse_and_verify(token: str, public_keys: dict[str, bytes]) -> VerifiedToken:
    """Check a compact JWS against the published keys. Raises TokenError with a reason."""
    from django.utils.translation import gettext as _

    token = (token or "").strip()
    if not token:
        raise TokenError("empty", _("No token was given."))
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenError("too_long", _("This text is too long to be a proof."))
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("malformed", _("A proof has three parts separated by dots; this text does not."))
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, UnicodeDecodeError):
        raise TokenError("malformed", _("This text is damaged or incomplete: it cannot be read.")) from None
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise TokenError("malformed", _("This text is damaged or incomplete: it cannot be read."))
    if header.get("alg") != "EdDSA":
        raise TokenError(
            "bad_algorithm",
            _("This token uses the algorithm “%(alg)s”; Guichet proofs are signed with EdDSA only.")
            % {"alg": str(header.get("alg"))[:20]},
        )
    if "crit" in header:
        raise TokenError("unsupported", _("This token asks for extensions Guichet does not use."))
    kid = header.get("kid")
    if not isinstance(kid, str) or kid not in public_keys:
        raise TokenError("unknown_key", _("This token was not signed by a key published by this service."))
    public_key = Ed25519PublicKey.from_public_bytes(public_keys[kid])
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
