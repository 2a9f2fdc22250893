"""Make guichet/residence/data/communes.tsv.gz from the npm package @etalab/decoupage-administratif.

    cd /tmp && npm pack @etalab/decoupage-administratif@6.0.0
    tar xzf etalab-decoupage-administratif-6.0.0.tgz
    python scripts/import_communes.py /tmp/package

Keeps the current communes and the municipal arrondissements of Paris, Lyon and Marseille (the postal
codes people write), of the départements that have a prefecture (mainland, Corsica and the five overseas
départements; the overseas collectivities are left out): INSEE code, name, département, postal codes.
The first line records the package, its version and its licence. Run again for a new version of the data.
"""

import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guichet.catalog.territory import is_department_code  # noqa: E402

OUT = ROOT / "guichet" / "residence" / "data" / "communes.tsv.gz"
KEPT = {"commune-actuelle", "arrondissement-municipal"}


def main(package: Path) -> None:
    meta = json.loads((package / "package.json").read_text())
    communes = json.loads((package / "data" / "communes.json").read_text())
    rows = sorted(
        (c["code"], c["nom"], c["departement"], " ".join(sorted(c.get("codesPostaux", []))))
        for c in communes
        if c["type"] in KEPT and is_department_code(c["departement"]) and c.get("codesPostaux")
    )
    header = f"# {meta['name']} {meta['version']} (data: Licence Ouverte / Etalab; code: {meta['license']})"
    text = header + "\n" + "".join("\t".join(row) + "\n" for row in rows)
    # A fixed modification time keeps the file identical when the data did not change.
    with gzip.GzipFile(OUT, "wb", compresslevel=9, mtime=0) as out:
        out.write(text.encode("utf-8"))
    print(f"{len(rows)} communes from {meta['name']} {meta['version']} written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
