"""The dependency audit fails on a known vulnerability and says NOT AUDITED when it could not ask."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"
spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)


def test_a_known_vulnerability_fails(capsys):
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.1"]}]},
            {"name": "segno", "version": "1.6.6", "vulns": []},
        ]
    }
    assert audit.judge("requirements.lock", report) == 1
    out = capsys.readouterr().out
    assert "VULNERABLE django 5.2.0: PYSEC-1 (fixed in 5.2.1)" in out
    assert "2 of 2 packages audited, 1 vulnerable" in out


def test_nothing_known_passes(capsys):
    report = {"dependencies": [{"name": "segno", "version": "1.6.6", "vulns": []}]}
    assert audit.judge("requirements.lock", report) == 0
    assert "1 of 1 packages audited, 0 vulnerable" in capsys.readouterr().out


def test_a_database_that_does_not_answer_is_said_and_fails_only_when_required(capsys, monkeypatch):
    report = {"dependencies": [{"name": "segno", "skip_reason": "Dependency not found on PyPI"}]}
    monkeypatch.delenv("REQUIRE_AUDIT", raising=False)
    assert audit.judge("requirements.lock", report) == 0
    assert "NOT AUDITED (requirements.lock)" in capsys.readouterr().out
    monkeypatch.setenv("REQUIRE_AUDIT", "1")
    assert audit.judge("requirements.lock", report) == 1
