"""Where dossier files live: a storage backend outside the web root, never served by the web server.

STORAGES["dossiers"] chooses the backend (a local folder, DOSSIER_FILES_ROOT, by default); files are only
ever read through guichet.dossiers.services.read_document, after the reader's right is checked.
"""

from django.core.files.storage import Storage, storages


def backend() -> Storage:
    return storages["dossiers"]
