"""A proof verifies with openssl alone, by the exact commands docs/proofs.md gives."""

import re
import shutil
import subprocess
from pathlib import Path

from guichet.evidence import signing
from guichet.evidence.models import Proof
from tests import system

from .helpers import make_request

DOC = Path(__file__).resolve().parents[2] / "docs" / "proofs.md"


def openssl_commands() -> str:
    """The shell block under "With openssl alone" in docs/proofs.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### With openssl alone", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def openssl_has_ed25519_rawin() -> bool:
    if shutil.which("openssl") is None:
        return False
    help_text = subprocess.run(["openssl", "pkeyutl", "-help"], capture_output=True, text=True)
    algorithms = subprocess.run(
        ["openssl", "list", "-public-key-algorithms"], capture_output=True, text=True
    ).stdout
    return "-rawin" in (help_text.stdout + help_text.stderr) and "ED25519" in algorithms.upper()


pytestmark = system.needs(
    openssl_has_ed25519_rawin(),
    reason="needs openssl 3 (Ed25519 and `pkeyutl -rawin`): apt-get install openssl",
)


def run_doc_commands(tmp_path, token: str, x: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", openssl_commands()],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "TOKEN": token, "X": x},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_proof_verifies_with_openssl_alone(world, client, tmp_path):
    request, _ = make_request(world, family_names="Nguyễn", given_names="Thị Hà")
    token = Proof.objects.get(request=request).token
    (jwk,) = client.get("/.well-known/jwks.json").json()["keys"]
    result = run_doc_commands(tmp_path, token, jwk["x"])
    assert result.returncode == 0, result.stderr
    assert "Signature Verified Successfully" in result.stdout
    # The PEM built by the shell is the key's SubjectPublicKeyInfo.
    assert (tmp_path / "pub.pem").read_text() == signing.public_key_pem(jwk["x"])
    assert (tmp_path / "signing_input").read_text() == token.rsplit(".", 1)[0]
    assert len((tmp_path / "sig.bin").read_bytes()) == 64


def test_openssl_refuses_a_changed_proof(world, client, tmp_path):
    request, _ = make_request(world)
    token = Proof.objects.get(request=request).token
    header, payload, signature = token.split(".")
    # Change one character of the payload (keeping it base64url).
    payload = payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:]
    (jwk,) = client.get("/.well-known/jwks.json").json()["keys"]
    result = run_doc_commands(tmp_path, f"{header}.{payload}.{signature}", jwk["x"])
    assert result.returncode != 0
    assert "Signature Verified Successfully" not in result.stdout


def test_openssl_refuses_another_key(world, client, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    request, _ = make_request(world)
    token = Proof.objects.get(request=request).token
    other_x = signing.public_key_b64(Ed25519PrivateKey.generate().public_key())
    result = run_doc_commands(tmp_path, token, other_x)
    assert result.returncode != 0
