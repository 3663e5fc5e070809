"""OpenAI and Azure OpenAI embeddings (default ``text-embedding-3-large``, 3072-d).

text-embedding-3-large is the embedding the paper uses. Requests go through the official
``openai`` client (``pip install salesrl[openai]``), imported only when a backend is first used.
Configuration comes from explicit options or the environment, and is checked when the backend
is built, so a missing key fails before any network call. Transient failures (429, 408, 409,
5xx, connection errors, timeouts) are retried by the client with exponential backoff and jitter,
honouring ``Retry-After``, up to ``max_retries`` times per request.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import numpy as np

from salesrl.features.embeddings.base import EmbeddingBackend, EmbeddingConfigError, EmbeddingError

__all__ = ["DEFAULT_AZURE_API_VERSION", "AzureOpenAIBackend", "OpenAIBackend"]

#: Native output width of OpenAI embedding models.
KNOWN_DIMS = {
    "text-embedding-3-large": 3072,
    "text-embedding-3-small": 1536,
    "text-embedding-ada-002": 1536,
}
#: Azure OpenAI data-plane API version used when none is configured (a GA version).
DEFAULT_AZURE_API_VERSION = "2024-10-21"
_INSTALL_HINT = "the openai backends need the openai package: pip install salesrl[openai]"


def _env(*names: str) -> str | None:
    for name in names:
        if value := os.environ.get(name, "").strip():
            return value
    return None


class OpenAIBackend(EmbeddingBackend):
    """Embeddings from the OpenAI API (or any server speaking its ``/embeddings`` protocol).

    Args:
        model: the embedding model.
        dim: output width; defaults to the model's native width. A smaller value is sent as the
            API's ``dimensions`` parameter (text-embedding-3 models only).
        api_key: defaults to ``OPENAI_API_KEY``.
        base_url: defaults to ``OPENAI_BASE_URL``, else the public API.
        batch_size: texts per request (the API allows 2048).
        max_chars_per_request: a request is also cut when its texts add up to this many
            characters, keeping it under the API's 300k-token request limit.
        timeout: seconds per HTTP request.
        max_retries: client retries per request on 429/5xx/connection errors.
    """

    name = "openai"

    def __init__(
        self,
        model: str = "text-embedding-3-large",
        dim: int | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        batch_size: int = 256,
        max_chars_per_request: int = 600_000,
        timeout: float = 60.0,
        max_retries: int = 6,
    ) -> None:
        super().__init__()
        self.model = model
        self._api_key = api_key or _env("OPENAI_API_KEY")
        self.base_url = base_url or _env("OPENAI_BASE_URL")
        if not self._api_key:
            raise EmbeddingConfigError(
                "openai backend: no API key; set OPENAI_API_KEY or pass api_key="
            )
        self._init_common(model, dim, batch_size, max_chars_per_request, timeout, max_retries)

    def _init_common(
        self,
        model: str,
        dim: int | None,
        batch_size: int,
        max_chars_per_request: int,
        timeout: float,
        max_retries: int,
    ) -> None:
        native = KNOWN_DIMS.get(model)
        if dim is None and native is None:
            raise EmbeddingConfigError(f"{self.name}: unknown model {model!r}; pass dim=")
        self.dim = int(dim or native)  # type: ignore[arg-type]
        if self.dim < 1 or (native is not None and self.dim > native):
            raise EmbeddingConfigError(f"{self.name}: dim {self.dim} not in [1, {native}]")
        if batch_size < 1 or max_chars_per_request < 1 or timeout <= 0 or max_retries < 0:
            raise EmbeddingConfigError(
                f"{self.name}: need batch_size >= 1, max_chars_per_request >= 1, timeout > 0, "
                "max_retries >= 0"
            )
        self._dimensions = None if self.dim == native else self.dim
        self.model_id = model if self._dimensions is None else f"{model}@{self.dim}"
        self.batch_size = batch_size
        self.max_chars_per_request = max_chars_per_request
        self.timeout = timeout
        self.max_retries = max_retries

    def _import_openai(self):  # noqa: ANN202 - returns the module
        try:
            import openai
        except ImportError as exc:
            raise EmbeddingConfigError(_INSTALL_HINT) from exc
        return openai

    def _make_client(self, openai):  # noqa: ANN001, ANN202
        return openai.OpenAI(
            api_key=self._api_key,
            base_url=self.base_url,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )

    @property
    def _request_model(self) -> str:
        return self.model

    def _load(self) -> None:
        openai = self._import_openai()
        self._openai_error = openai.OpenAIError
        self._client = self._make_client(openai)

    def _batches(self, texts: list[str]) -> Iterator[list[int]]:
        """Indices of non-empty texts, cut by count and by total characters."""
        batch: list[int] = []
        chars = 0
        for i, text in enumerate(texts):
            if not text:
                continue  # the API rejects empty strings; they embed to the zero vector
            if batch and (
                len(batch) == self.batch_size or chars + len(text) > self.max_chars_per_request
            ):
                yield batch
                batch, chars = [], 0
            batch.append(i)
            chars += len(text)
        if batch:
            yield batch

    def _request(self, inputs: list[str]) -> np.ndarray:
        kwargs = {"dimensions": self._dimensions} if self._dimensions else {}
        try:
            response = self._client.embeddings.create(
                model=self._request_model, input=inputs, encoding_format="base64", **kwargs
            )
        except self._openai_error as exc:
            raise EmbeddingError(f"{self.name} ({self.model_id}): {exc}") from exc
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(inputs):
            raise EmbeddingError(f"{self.name}: sent {len(inputs)} texts, got {len(rows)} vectors")
        out = np.empty((len(inputs), self.dim), dtype=np.float32)
        for j, item in enumerate(rows):
            vec = item.embedding
            if isinstance(vec, str):
                vec = np.frombuffer(base64.b64decode(vec), dtype="<f4")
            vec = np.asarray(vec, dtype=np.float32)
            if vec.shape != (self.dim,):
                raise EmbeddingError(
                    f"{self.name}: got a {vec.shape} vector, expected ({self.dim},)"
                )
            out[j] = vec
        return out

    def _embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for idx in self._batches(texts):
            out[idx] = self._request([texts[i] for i in idx])
        return out


class AzureOpenAIBackend(OpenAIBackend):
    """Embeddings from an Azure OpenAI deployment.

    Args:
        deployment: the deployment name; defaults to ``AZURE_OPENAI_EMBEDDING_DEPLOYMENT``, else
            ``AZURE_OPENAI_DEPLOYMENT``, else the model name.
        model: the model behind the deployment (sets the native width and the cache key).
        api_key: defaults to ``AZURE_OPENAI_API_KEY``.
        endpoint: ``https://<resource>.openai.azure.com``; defaults to ``AZURE_OPENAI_ENDPOINT``.
        api_version: defaults to ``AZURE_OPENAI_API_VERSION``, else ``OPENAI_API_VERSION``, else
            :data:`DEFAULT_AZURE_API_VERSION`.
        Other arguments as for :class:`OpenAIBackend`.
    """

    name = "azure-openai"

    def __init__(
        self,
        deployment: str | None = None,
        model: str = "text-embedding-3-large",
        dim: int | None = None,
        api_key: str | None = None,
        endpoint: str | None = None,
        api_version: str | None = None,
        batch_size: int = 256,
        max_chars_per_request: int = 600_000,
        timeout: float = 60.0,
        max_retries: int = 6,
    ) -> None:
        EmbeddingBackend.__init__(self)
        self.model = model
        self._api_key = api_key or _env("AZURE_OPENAI_API_KEY")
        self.endpoint = endpoint or _env("AZURE_OPENAI_ENDPOINT")
        self.api_version = (
            api_version
            or _env("AZURE_OPENAI_API_VERSION", "OPENAI_API_VERSION")
            or DEFAULT_AZURE_API_VERSION
        )
        self.deployment = (
            deployment
            or _env("AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "AZURE_OPENAI_DEPLOYMENT")
            or model
        )
        missing = [
            label
            for label, value in (
                ("AZURE_OPENAI_API_KEY (api_key=)", self._api_key),
                ("AZURE_OPENAI_ENDPOINT (endpoint=)", self.endpoint),
            )
            if not value
        ]
        if missing:
            raise EmbeddingConfigError(
                f"azure-openai backend: not configured; set {', '.join(missing)}"
            )
        self._init_common(model, dim, batch_size, max_chars_per_request, timeout, max_retries)

    @property
    def _request_model(self) -> str:
        return self.deployment

    def _make_client(self, openai):  # noqa: ANN001, ANN202
        return openai.AzureOpenAI(
            api_key=self._api_key,
            azure_endpoint=self.endpoint,
            api_version=self.api_version,
            timeout=self.timeout,
            max_retries=self.max_retries,
        )
