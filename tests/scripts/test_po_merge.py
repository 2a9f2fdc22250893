"""The catalogues' merge driver merges by entry: both sides' new strings kept, a translation never lost."""

import importlib.util
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "po_merge.py"
spec = importlib.util.spec_from_file_location("po_merge", SCRIPT)
po_merge = importlib.util.module_from_spec(spec)
spec.loader.exec_module(po_merge)

HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def catalogue(tmp_path: Path, name: str, entries: dict[str, str]) -> Path:
    path = tmp_path / f"{name}.po"
    body = "".join(f'msgid "{msgid}"\nmsgstr "{msgstr}"\n\n' for msgid, msgstr in entries.items())
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def merged(tmp_path: Path, base: dict, ours: dict, theirs: dict) -> dict[str, str]:
    paths = [
        catalogue(tmp_path, name, entries)
        for name, entries in (("base", base), ("ours", ours), ("theirs", theirs))
    ]
    assert subprocess.run([po_merge.sys.executable, str(SCRIPT), *map(str, paths)]).returncode == 0
    return {entry.msgid: entry.msgstr for entry in po_merge.polib.pofile(str(paths[1]))}


def test_both_sides_new_strings_are_kept(tmp_path):
    result = merged(
        tmp_path,
        {"Queue": "File"},
        {"Queue": "File", "Ticket": "Ticket"},
        {"Queue": "File", "Dossier": "Dossier"},
    )
    assert result == {"Queue": "File", "Ticket": "Ticket", "Dossier": "Dossier"}


def test_the_side_that_changed_an_entry_wins(tmp_path):
    result = merged(
        tmp_path,
        {"Queue": "", "Late": "Retard"},
        {"Queue": "", "Late": "En retard"},
        {"Queue": "File", "Late": "Retard"},
    )
    assert result == {"Queue": "File", "Late": "En retard"}


def test_a_translation_beats_an_emptied_one(tmp_path):
    result = merged(tmp_path, {"Queue": "File"}, {"Queue": ""}, {"Queue": "File d'attente"})
    assert result == {"Queue": "File d'attente"}


def test_an_entry_removed_on_one_side_goes(tmp_path):
    result = merged(
        tmp_path, {"Old": "Ancien", "Queue": "File"}, {"Queue": "File"}, {"Old": "Ancien", "Queue": "File"}
    )
    assert result == {"Queue": "File"}
