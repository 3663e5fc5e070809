"""Helpers shared by the service tests (imported as ``service_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from salesrl.service import Settings, create_app
from salesrl.service.auth import generate_key, hash_key
from salesrl.service.storage import Database, Repository

DIALOGUE = [("rep", "Hi, thanks for taking the time."),
            ("customer", "Sure. What does it cost?"),
            ("rep", "It is $20 a month per seat."),
            ("customer", "Hmm, that's too expensive for us."),
            ("rep", "We can start with a small pilot."),
            ("customer", "OK, sounds good, send me the contract.")]


def add_key(url: str, tenant: str) -> str:
    """Create (migrating first) an API key for ``tenant`` and return it."""
    db = Database(url, pool_size=1)
    try:
        db.migrate()
        key = generate_key()
        Repository(db).create_api_key(tenant, hash_key(key), key[:8])
        return key
    finally:
        db.dispose()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass
class Api:
    """A running app (TestClient) with two tenants' keys."""

    client: TestClient
    key_a: str
    key_b: str
    url: str

    @property
    def a(self) -> dict[str, str]:
        return auth(self.key_a)

    @property
    def b(self) -> dict[str, str]:
        return auth(self.key_b)

    def new_conversation(self, headers: dict[str, str] | None = None, **metadata: Any) -> str:
        r = self.client.post("/v1/conversations", json={"metadata": metadata},
                             headers=headers or self.a)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def append(self, conv_id: str, role: str = "customer", text: str = "hello",
               headers: dict[str, str] | None = None, **extra: Any) -> Any:
        return self.client.post(f"/v1/conversations/{conv_id}/turns",
                                json={"role": role, "text": text, **extra},
                                headers=headers or self.a)


def make_api(url: str, **settings: Any) -> Iterator[Api]:
    key_a = add_key(url, "tenant-a")
    key_b = add_key(url, "tenant-b")
    app = create_app(Settings(db_url=url, **settings))
    with TestClient(app) as client:
        yield Api(client, key_a, key_b, url)
