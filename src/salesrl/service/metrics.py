"""Prometheus metrics on a per-app registry (so tests can build several apps side by side)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.25,
                   0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The service's metrics; ``registry`` is what ``GET /metrics`` exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_seconds = Histogram(
            "salesrl_http_request_duration_seconds", "HTTP request latency by route template.",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=r)
        self.turns_scored = Counter(
            "salesrl_turns_scored", "Turns scored by the engine.", ["mode"], registry=r)
        self.cache_hits = Counter(
            "salesrl_session_cache_hits", "Appends served by a cached live session.", registry=r)
        self.cache_misses = Counter(
            "salesrl_session_cache_misses",
            "Appends whose session was rebuilt from storage.", registry=r)
        self.cache_hit_ratio = Gauge(
            "salesrl_session_cache_hit_ratio", "Hits / (hits + misses) since start.", registry=r)
        self.cache_hit_ratio.set_function(self._hit_ratio)
        self.cache_size = Gauge(
            "salesrl_session_cache_size", "Live sessions held in memory.", registry=r)
        self.engine_seconds = Histogram(
            "salesrl_engine_duration_seconds", "Time spent in the engine.", ["op"],
            buckets=LATENCY_BUCKETS, registry=r)
        self.commit_group = Histogram(
            "salesrl_commit_group_turns", "Turns written per durable transaction (group commit).",
            buckets=(1, 2, 4, 8, 16, 32, 64), registry=r)
        self.score_batch = Histogram(
            "salesrl_score_batch_turns", "Turns scored per model call (micro-batching).",
            buckets=(1, 2, 4, 8, 16, 32, 64), registry=r)
        self.idempotent_replays = Counter(
            "salesrl_idempotent_replays", "Appends answered from an idempotency key.",
            registry=r)
        self.stream_clients = Gauge(
            "salesrl_stream_clients", "Open WebSocket stream connections.", registry=r)
        self.model_info = Info("salesrl_model", "The engine serving predictions.", registry=r)
        self.model_loaded = Gauge(
            "salesrl_model_loaded", "1 for the loaded model version.", ["model_version"],
            registry=r)

        self._hits = 0
        self._misses = 0

    def cache_hit(self) -> None:
        self._hits += 1
        self.cache_hits.inc()

    def cache_miss(self) -> None:
        self._misses += 1
        self.cache_misses.inc()

    def _hit_ratio(self) -> float:
        total = self._hits + self._misses
        return self._hits / total if total else 0.0

    def set_model(self, version: str, engine: Any) -> None:
        self.model_info.info({"model_version": version, "engine": type(engine).__name__})
        self.model_loaded.labels(version).set(1)

    def time_engine(self, op: str) -> _Timer:
        return _Timer(self.engine_seconds.labels(op))


class _Timer:
    def __init__(self, hist: Any) -> None:
        self.hist = hist

    def __enter__(self) -> _Timer:
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.hist.observe(time.perf_counter() - self.t0)


class MetricsMiddleware:
    """Pure ASGI middleware: request latency per (method, route template, status)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        t0 = time.perf_counter()

        async def send_wrapper(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            self.metrics.request_seconds.labels(scope["method"], template, str(status)).observe(
                time.perf_counter() - t0)
