"""The layers of docs/architecture.md are checked by `make lint`; a planted wrong arrow must fail it."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _copy_of_the_package(tmp_path: Path) -> Path:
    skip = shutil.ignore_patterns("__pycache__", "static", "templates", "locale")
    shutil.copytree(ROOT / "guichet", tmp_path / "guichet", ignore=skip)
    return tmp_path


def _lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "lint-imports"), "--config", str(ROOT / ".importlinter"), "--no-cache"],
        cwd=where,
        env={"PYTHONPATH": str(where), "PATH": str(BIN)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_model_importing_a_page_breaks_the_layers(tmp_path):
    # The real tree is checked by `make lint`; this copy differs from it by one planted arrow.
    tree = _copy_of_the_package(tmp_path)
    models = tree / "guichet" / "waitlist" / "models.py"
    models.write_text(models.read_text() + "\nfrom guichet.public.views import status  # noqa: E402\n")
    broken = _lint_imports(tree)
    assert broken.returncode != 0
    assert "Models import only models and the kernel" in broken.stdout
    assert "guichet.waitlist.models -> guichet.public.views" in broken.stdout


def test_an_import_inside_a_function_fails_ruff(tmp_path):
    module = tmp_path / "guichet" / "example.py"
    module.parent.mkdir()
    module.write_text('"""Example."""\n\n\ndef f():\n    import json\n\n    return json\n')
    found = subprocess.run(
        [str(BIN / "ruff"), "check", "--config", str(ROOT / "pyproject.toml"), str(module)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode != 0
    assert "PLC0415" in found.stdout
