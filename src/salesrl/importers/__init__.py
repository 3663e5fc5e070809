"""Importers: real conversation data in other formats -> salesrl :class:`Conversation` lists.

``IMPORTERS`` maps a source name (as used by ``salesrl convert --from``) to a function
``(path, **options) -> list[Conversation]``. Every importer raises
:class:`~salesrl.conversation.DataError` for bad input and emits a :class:`DataWarning`, with a
count, for odd-but-usable data; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable

from salesrl.conversation import Conversation
from salesrl.importers._common import DataWarning
from salesrl.importers.craigslist import load_craigslist
from salesrl.importers.csv_generic import load_csv
from salesrl.importers.persuasionforgood import (
    default_persuasionforgood,
    default_persuasionforgood_annotated,
    load_persuasionforgood,
    load_persuasionforgood_annotated,
    load_persuasionforgood_annotated_dir,
    load_persuasionforgood_dir,
    load_persuasionforgood_traits_dir,
    persuasionforgood_dir,
)

Importer = Callable[..., list[Conversation]]

IMPORTERS: dict[str, Importer] = {
    "p4g": load_persuasionforgood_dir,
    "p4g-traits": load_persuasionforgood_traits_dir,
    "p4g-annotated": load_persuasionforgood_annotated_dir,
    "craigslist": load_craigslist,
    "csv": load_csv,
}


def get_importer(name: str) -> Importer:
    """The importer registered under ``name``; ``KeyError`` lists the known names."""
    try:
        return IMPORTERS[name]
    except KeyError:
        raise KeyError(f"unknown importer {name!r}; known: {', '.join(IMPORTERS)}") from None


__all__ = [
    "IMPORTERS", "DataWarning", "Importer", "default_persuasionforgood",
    "default_persuasionforgood_annotated", "get_importer", "load_craigslist", "load_csv",
    "load_persuasionforgood", "load_persuasionforgood_annotated",
    "load_persuasionforgood_annotated_dir", "load_persuasionforgood_dir",
    "load_persuasionforgood_traits_dir",
    "persuasionforgood_dir",
]
