"""One error format for every 4xx/5xx: ``{"error", "detail", "field"}`` (+ ``errors``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("salesrl.service")

_LOC_PREFIX = {"body": "", "query": "query parameter ", "path": "path parameter ",
               "header": "header ", "cookie": "cookie "}


class ApiError(Exception):
    """An error answered as JSON with a status, a machine code, a message and the field."""

    def __init__(self, status: int, code: str, detail: str, *, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = headers


def error_body(code: str, detail: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": code, "detail": detail, "field": field, **extra}


def field_name(loc: Sequence[Any]) -> tuple[str, str]:
    """``("body", "turns", 0, "text")`` -> (``"turns[0].text"``, ``""``) with its kind prefix."""
    parts = list(loc)
    kind = str(parts.pop(0)) if parts and parts[0] in _LOC_PREFIX else "body"
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or kind, _LOC_PREFIX.get(kind, "")


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "parse error")
            return JSONResponse(status_code=400, content=error_body(
                "malformed_json", f"request body is not valid JSON ({reason})", "body"))
        name, prefix = field_name(err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "missing" and name == "body":
            msg = "a JSON request body is required"
        errors.append({"field": name, "detail": f"{prefix}{name!r}: {msg}",
                       "type": err.get("type")})
    first = errors[0] if errors else {"field": None, "detail": "invalid request"}
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return JSONResponse(status_code=422, content=error_body(
        "invalid_request", first["detail"] + more, first["field"], errors=errors))


_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "body_too_large",
               415: "unsupported_media_type", 422: "invalid_request", 429: "too_many_requests"}


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the same JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, headers=exc.headers,
                            content=error_body(exc.code, exc.detail, exc.field))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint: {request.method} {request.url.path}"
        return JSONResponse(status_code=exc.status_code, headers=getattr(exc, "headers", None),
                            content=error_body(code, detail))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content=error_body(
            "internal_error", "internal server error (logged)"))
