"""Liveness and Prometheus metrics (both unauthenticated; neither shows tenant data)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from salesrl.service.routes.common import service
from salesrl.service.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(request: Request) -> Response:
    """200 when the engine is loaded and the database answers, 503 otherwise."""
    svc = service(request)
    try:
        await run_in_threadpool(svc.db.ping)
        database, status = "ok", 200
    except Exception as exc:  # any driver error means "not healthy", never a 500
        database, status = f"error: {type(exc).__name__}", 503
    body = Health(status="ok" if status == 200 else "unavailable",
                  model_version=svc.engine.model_version, database=database)
    return JSONResponse(body.model_dump(), status_code=status)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}})
async def metrics(request: Request) -> Response:
    """Prometheus exposition of this app's registry."""
    data = generate_latest(request.app.state.metrics.registry)
    return Response(data, media_type=CONTENT_TYPE_LATEST)
