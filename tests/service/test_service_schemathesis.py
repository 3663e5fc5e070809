"""Property-based API fuzzing (schemathesis) from the OpenAPI schema: never a 5xx.

Bounded for a 2-core machine: ``MAX_EXAMPLES`` valid and ``MAX_EXAMPLES`` invalid requests per
operation, with a valid key, against an existing conversation so that fuzzed turns reach the
engine and the database rather than stopping at a 404.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from service_helpers import add_key, auth

from salesrl.service import Settings, create_app
from salesrl.service.storage import Database, Repository

MAX_EXAMPLES = 25


def test_api_never_answers_5xx(db_url: str) -> None:
    key = add_key(db_url, "fuzz")
    db = Database(db_url, pool_size=1)
    tenant = Repository(db).tenant_for_key_hash(hashlib.sha256(key.encode()).hexdigest())
    conv = Repository(db).create_conversation(tenant, {}).id
    db.dispose()
    app = create_app(Settings(db_url=db_url, max_turns_per_conversation=100_000))
    try:
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the lifespan
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 7
        unsatisfiable: list[str] = []
        statuses: dict[str, Counter] = {}
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                overrides: dict[str, Any] = {"headers": auth(key)}
                if "{conversation_id}" in operation.path:
                    overrides["path_parameters"] = {"conversation_id": conv}

                @given(case=operation.as_strategy(mode, **overrides))
                @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
                          database=None, suppress_health_check=list(HealthCheck))
                def fuzz(case: Any) -> None:
                    response = case.call_and_validate(checks=[not_a_server_error])
                    statuses.setdefault(case.operation.label, Counter())[response.status_code] += 1

                try:
                    fuzz()
                except Unsatisfiable:  # nothing to make invalid in this operation
                    unsatisfiable.append(f"{mode.value} {operation.label}")
        # Only operations with nothing left to make invalid (no query, no body) are skipped.
        assert set(unsatisfiable) <= {"negative GET /v1/conversations/{conversation_id}",
                                      "negative GET /healthz", "negative GET /metrics"}
        # The fuzzed appends did reach the engine and the database.
        assert statuses["POST /v1/conversations/{conversation_id}/turns"][201] > 0
        assert statuses["POST /v1/score"][200] > 0
    finally:
        asgi.shutdown_lifespans()
