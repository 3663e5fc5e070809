"""API keys: one or more per tenant, stored hashed; every request resolves to one tenant.

A key is ``slr_`` + 32 random bytes (URL-safe base64). Only its SHA-256 is stored. A plain,
fast hash is the right tool here and bcrypt/scrypt/argon2 are not: those slow KDFs exist to make
guessing *low-entropy* secrets (human passwords) expensive, but a 256-bit random token cannot be
guessed whatever the hash costs, and a slow hash would add tens of milliseconds to every request
(and rule out looking the key up by its hash through a unique index).
"""

from __future__ import annotations

import hashlib
import secrets

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from salesrl.service.errors import ApiError

KEY_PREFIX = "slr_"

# Declared for the OpenAPI schema (the "Authorize" button of /docs); resolved by hand below.
bearer_scheme = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
header_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key.")


def generate_key() -> str:
    """A new random API key (shown once; only its hash is kept)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key (see the module docstring for why not bcrypt)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def key_from_headers(headers: object, token: str | None = None) -> str | None:
    """The key from ``Authorization: Bearer``, ``X-API-Key`` or a ``token`` query parameter."""
    auth = headers.get("authorization")  # type: ignore[attr-defined]
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return headers.get("x-api-key") or token  # type: ignore[attr-defined]


async def require_tenant(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(bearer_scheme),
    api_key: str | None = Depends(header_scheme),
) -> str:
    """FastAPI dependency: the tenant id of the request's API key, or a 401."""
    key = (bearer.credentials if bearer else None) or api_key
    tenant = await request.app.state.service.authenticate(key)
    if tenant is None:
        raise unauthorized(key)
    return tenant


def unauthorized(key: str | None) -> ApiError:
    if not key:
        return ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer "
                        "<key>' or 'X-API-Key: <key>'", field="authorization",
                        headers={"WWW-Authenticate": "Bearer"})
    return ApiError(401, "unauthorized", "invalid or revoked API key", field="authorization",
                    headers={"WWW-Authenticate": "Bearer"})
