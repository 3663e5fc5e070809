"""OpenAI / Azure OpenAI backends against a local HTTP server (never the internet)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from salesrl.features.embeddings import EmbeddingConfigError, EmbeddingError, get_backend

pytest.importorskip("openai")

ENV_VARS = [
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_VERSION",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_OPENAI_EMBEDDING_DEPLOYMENT",
    "AZURE_OPENAI_AD_TOKEN",
]


@dataclass
class FakeAPI:
    """What the local server saw, and how it should answer."""

    url: str = ""
    requests: list[dict] = field(default_factory=list)
    fail_first: list[int] = field(default_factory=list)  # status codes to answer first, in order

    def vector(self, text: str, dim: int) -> list[float]:
        rng = np.random.default_rng(len(text))
        return rng.normal(size=dim).astype(np.float32).tolist()


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPI]:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = FakeAPI()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server API
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(
                {
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                }
            )
            if state.fail_first:
                status = state.fail_first.pop(0)
                payload = json.dumps({"error": {"message": "slow down", "type": "x"}}).encode()
                self.send_response(status)
                self.send_header("retry-after-ms", "5")
            else:
                dim = body.get("dimensions", 3072)
                data = []
                for i, text in enumerate(body["input"]):
                    vec = state.vector(text, dim)
                    if body.get("encoding_format") == "base64":
                        vec = base64.b64encode(np.asarray(vec, "<f4").tobytes()).decode()
                    data.append({"object": "embedding", "index": i, "embedding": vec})
                payload = json.dumps(
                    {
                        "object": "list",
                        "data": data[::-1],  # out of order on purpose: the index decides
                        "model": body["model"],
                        "usage": {"prompt_tokens": 1, "total_tokens": 1},
                    }
                ).encode()
                self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def test_not_configured_fails_before_any_request(api: FakeAPI) -> None:
    with pytest.raises(EmbeddingConfigError, match="OPENAI_API_KEY"):
        get_backend("openai")
    with pytest.raises(EmbeddingConfigError, match="AZURE_OPENAI_API_KEY.*AZURE_OPENAI_ENDPOINT"):
        get_backend("azure-openai")
    with pytest.raises(EmbeddingConfigError, match="dim="):
        get_backend("openai", api_key="k", model="some-new-model")
    assert api.requests == []


def test_openai_request_shape_and_batching(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", f"{api.url}/v1")
    backend = get_backend("openai", batch_size=2)
    assert (backend.dim, backend.model_id) == (3072, "text-embedding-3-large")
    texts = ["a", "bb", "", "ccc", "dddd"]
    out = backend.embed(texts)
    assert out.shape == (5, 3072) and out.dtype == np.float32
    assert [r["path"] for r in api.requests] == ["/v1/embeddings"] * 2
    bodies = [r["body"] for r in api.requests]
    assert [b["input"] for b in bodies] == [["a", "bb"], ["ccc", "dddd"]]  # "" is not sent
    assert all(b["model"] == "text-embedding-3-large" for b in bodies)
    assert all(b["encoding_format"] == "base64" and "dimensions" not in b for b in bodies)
    assert api.requests[0]["headers"]["authorization"] == "Bearer sk-test"
    expected = np.asarray(api.vector("ccc", 3072), dtype=np.float32)
    np.testing.assert_allclose(out[3], expected / np.linalg.norm(expected), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), [1, 1, 0, 1, 1], atol=1e-5)


def test_shortened_dimensions_are_requested(api: FakeAPI) -> None:
    backend = get_backend("openai", api_key="k", base_url=f"{api.url}/v1", dim=256)
    assert backend.embed(["hello"]).shape == (1, 256)
    assert api.requests[0]["body"]["dimensions"] == 256
    assert backend.model_id == "text-embedding-3-large@256"


def test_rate_limit_is_retried(api: FakeAPI) -> None:
    api.fail_first = [429]
    backend = get_backend("openai", api_key="k", base_url=f"{api.url}/v1", max_retries=2)
    out = backend.embed(["retry me"])
    assert out.shape == (1, 3072)
    assert len(api.requests) == 2
    assert api.requests[0]["body"] == api.requests[1]["body"]


def test_exhausted_retries_raise_embedding_error(api: FakeAPI) -> None:
    api.fail_first = [500, 503]
    backend = get_backend("openai", api_key="k", base_url=f"{api.url}/v1", max_retries=1)
    with pytest.raises(EmbeddingError, match="openai"):
        backend.embed(["x"])
    assert len(api.requests) == 2


def test_azure_request_shape(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az-key")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", api.url)
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "2024-10-21")
    backend = get_backend("azure-openai", deployment="emb-large")
    out = backend.embed(["hello", "world"])
    assert out.shape == (2, 3072)
    (request,) = api.requests
    assert request["path"] == "/openai/deployments/emb-large/embeddings?api-version=2024-10-21"
    assert request["headers"]["api-key"] == "az-key"
    assert request["body"]["input"] == ["hello", "world"]
