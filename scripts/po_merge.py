"""Three-way merge of gettext catalogues, entry by entry (a git merge driver).

Two branches that each add strings to `locale/<lang>/LC_MESSAGES/django.po` conflict on every line git sees
as neighbouring, though their entries rarely touch. This driver merges by message (msgctxt + msgid):
a side that changed an entry wins over a side that kept the base's; when both changed it, a translation
beats an empty one and ours beats theirs. Entries only one side added are kept; an entry one side removed
(and the other left as it was) goes.

Set it up once per clone (`.gitattributes` names it):

    git config merge.pofile.driver ".venv/bin/python scripts/po_merge.py %O %A %B"

Then run `make messages` after the merge: it recompiles the `.mo` files, which `.gitattributes` merges as
"ours".
"""

from __future__ import annotations

import sys

import polib


def _key(entry: polib.POEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def _translation(entry: polib.POEntry | None) -> tuple:
    if entry is None:
        return ()
    return (entry.msgstr, tuple(sorted(entry.msgstr_plural.items())), "fuzzy" in entry.flags)


def _is_translated(entry: polib.POEntry) -> bool:
    if entry.msgid_plural:
        return all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def merge(base: polib.POFile, ours: polib.POFile, theirs: polib.POFile) -> polib.POFile:
    base_by_key = {_key(e): e for e in base if not e.obsolete}
    theirs_by_key = {_key(e): e for e in theirs if not e.obsolete}
    ours_keys = {_key(e) for e in ours if not e.obsolete}
    merged = polib.POFile(wrapwidth=ours.wrapwidth)
    merged.metadata = ours.metadata
    merged.header = ours.header
    for entry in ours:
        if entry.obsolete:
            continue
        key = _key(entry)
        old = base_by_key.get(key)
        other = theirs_by_key.get(key)
        if other is None:
            if old is not None and _translation(old) == _translation(entry):
                continue  # they removed it and we did not touch it
            merged.append(entry)
            continue
        they_changed = _translation(other) != _translation(old)
        we_changed = _translation(entry) != _translation(old)
        if they_changed and (not we_changed or (_is_translated(other) and not _is_translated(entry))):
            entry.msgstr = other.msgstr
            entry.msgstr_plural = dict(other.msgstr_plural)
            entry.flags = list(other.flags)
        entry.occurrences = sorted(set(entry.occurrences) | set(other.occurrences))
        merged.append(entry)
    for entry in theirs:
        key = _key(entry)
        if entry.obsolete or key in ours_keys:
            continue
        old = base_by_key.get(key)
        if old is not None and _translation(old) == _translation(entry):
            continue  # we removed it and they did not touch it
        merged.append(entry)
    return merged


def main(base_path: str, ours_path: str, theirs_path: str) -> int:
    merged = merge(polib.pofile(base_path), polib.pofile(ours_path), polib.pofile(theirs_path))
    merged.save(ours_path)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
