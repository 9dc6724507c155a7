"""Reading a local `zotero.sqlite` (Zotero's own database, not a paperradar library): its items,
their fields, creators and collections, as plain rows. The database (and its -wal) is copied
first and the copy opened read-only, so a running Zotero, which locks its file, is never disturbed.
zotero.py turns the rows into Zotero item JSON. Does I/O (the file).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput

_ITEMS = """
SELECT i.itemID, i.key, t.typeName FROM items i JOIN itemTypes t ON t.itemTypeID = i.itemTypeID
WHERE t.typeName NOT IN ('attachment', 'note', 'annotation')
  AND i.itemID NOT IN (SELECT itemID FROM deletedItems)
ORDER BY i.itemID
"""
_FIELDS = """
SELECT d.itemID, f.fieldName, v.value FROM itemData d
JOIN fields f ON f.fieldID = d.fieldID JOIN itemDataValues v ON v.valueID = d.valueID
"""
_CREATORS = """
SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, t.creatorType FROM itemCreators ic
JOIN creators c ON c.creatorID = ic.creatorID JOIN creatorTypes t ON t.creatorTypeID = ic.creatorTypeID
ORDER BY ic.itemID, ic.orderIndex
"""
_COLLECTIONS = """
SELECT ci.itemID, c.key, c.collectionName FROM collectionItems ci
JOIN collections c ON c.collectionID = ci.collectionID
"""


@dataclass(frozen=True)
class ZoteroRows:
    items: list[tuple[int, str, str]]  # item id, key, type name (no attachments, notes, deleted)
    fields: list[tuple[int, str, str]]  # item id, field name, value
    creators: list[tuple[int, str | None, str | None, int, str]]  # id, first, last, single field, role
    collections: list[tuple[int, str, str]]  # item id, collection key, collection name


def read_zotero_db(path: Path) -> ZoteroRows:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such Zotero database")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "zotero.sqlite"
        shutil.copyfile(path, copy)
        for suffix in ("-wal", "-shm"):
            if Path(f"{path}{suffix}").is_file():
                shutil.copyfile(f"{path}{suffix}", f"{copy}{suffix}")
        conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            rows = [[tuple(r) for r in conn.execute(q)] for q in (_ITEMS, _FIELDS, _CREATORS, _COLLECTIONS)]
        except sqlite3.DatabaseError as e:
            raise InvalidInput(f"{path}: not a Zotero database ({e})") from e
        finally:
            conn.close()
    return ZoteroRows(*rows)  # type: ignore[arg-type]
