"""The fifteen industries of the simulator: products, price ranges, pains and competitors.

The content lives in ``data/industries.json`` (all names invented) so it can be read and edited
without touching code. Industry never changes the hidden state: it only colours the text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Product:
    """Something a vendor sells, priced ``price_range`` (in dollars) ``unit``."""

    name: str
    unit: str
    price_range: tuple[int, int]
    step: int


@dataclass(frozen=True)
class Industry:
    """The vocabulary of one industry."""

    key: str
    vendors: tuple[str, ...]
    products: tuple[Product, ...]
    pains: tuple[str, ...]
    benefits: tuple[str, ...]
    features: tuple[str, ...]
    competitors: tuple[str, ...]
    metrics: tuple[str, ...]
    peers: tuple[str, ...]
    teams: tuple[str, ...]
    bosses: tuple[str, ...]
    company_words: tuple[str, ...]


@lru_cache(maxsize=1)
def load_industries() -> tuple[Industry, ...]:
    """All industries, in file order."""
    raw = json.loads((DATA_DIR / "industries.json").read_text(encoding="utf-8"))
    out = []
    for item in raw["industries"]:
        products = tuple(Product(p["name"], p["unit"], (int(p["price"][0]), int(p["price"][1])),
                                 int(p["step"])) for p in item["products"])
        fields = {k: tuple(v) for k, v in item.items() if k not in ("key", "products")}
        out.append(Industry(key=item["key"], products=products, **fields))
    return tuple(out)


@lru_cache(maxsize=1)
def load_templates() -> dict:
    """The utterance templates (``data/templates.json``)."""
    return json.loads((DATA_DIR / "templates.json").read_text(encoding="utf-8"))
