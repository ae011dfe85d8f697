"""Embedders: the bundled offline model, and the OpenAI-compatible client over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import numpy as np
import pytest

from tidings.ai.embeddings import (
    Embedder,
    EmbeddingServiceError,
    OpenAICompatibleEmbedder,
    UniversalSentenceEncoder,
    news_text,
)


@pytest.fixture(scope="module")
def use() -> UniversalSentenceEncoder:
    return UniversalSentenceEncoder()


def test_offline_model_is_an_embedder_and_normalised(use: UniversalSentenceEncoder) -> None:
    assert isinstance(use, Embedder)
    vectors = use.embed(["Typhoon hits Okinawa", "Stock markets rally"])
    assert vectors.shape == (2, 512) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert use.embed([]).shape == (0, 512)


def test_same_story_across_languages_is_closer_than_another_story(use: UniversalSentenceEncoder) -> None:
    en, ko, ja, other = use.embed(
        [
            "Typhoon hits Okinawa, thousands evacuated",
            "태풍이 오키나와를 강타해 수천 명이 대피했다",
            "台風が沖縄を直撃、数千人が避難",
            "Stock markets rally on trade deal",
        ]
    )
    assert float(en @ ko) > float(en @ other) + 0.3
    assert float(en @ ja) > float(en @ other) + 0.3


def test_news_text_is_title_and_lead() -> None:
    assert news_text("Headline", "First  paragraph.\n\nSecond " + "x" * 2000).startswith(
        "Headline. First paragraph."
    )
    assert len(news_text("H", "word " * 1000)) <= 3 + 600
    assert news_text(None, "Only body") == "Only body"


class _EmbeddingsServer(BaseHTTPRequestHandler):
    mode = "ok"
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if self.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        count = len(body["input"]) - (1 if self.mode == "short" else 0)
        data = [{"index": i, "embedding": [float(i + 1), 1.0, 0.0]} for i in reversed(range(count))]
        payload = json.dumps({"object": "list", "data": data, "model": body["model"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _EmbeddingsServer.mode, _EmbeddingsServer.requests = "ok", []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _EmbeddingsServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_openai_compatible_client_batches_orders_and_normalises(server: str) -> None:
    embedder = OpenAICompatibleEmbedder(base_url=server, model="nomic-embed-text", api_key="k", batch_size=2)
    assert isinstance(embedder, Embedder)
    vectors = embedder.embed(["a", "b", "c"])
    assert vectors.shape == (3, 3) and embedder.dimensions == 3
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    # Answers came back in reverse order: the client sorts them by index.
    assert vectors[1, 0] > vectors[0, 0]
    assert [r["input"] for r in _EmbeddingsServer.requests] == [["a", "b"], ["c"]]
    assert all(r["path"] == "/v1/embeddings" and r["auth"] == "Bearer k" for r in _EmbeddingsServer.requests)
    assert all(r["model"] == "nomic-embed-text" for r in _EmbeddingsServer.requests)
    embedder.close()


@pytest.mark.parametrize("mode", ["error", "short"])
def test_openai_compatible_client_reports_bad_answers(server: str, mode: str) -> None:
    _EmbeddingsServer.mode = mode
    embedder = OpenAICompatibleEmbedder(base_url=server, model="m")
    with pytest.raises(EmbeddingServiceError):
        embedder.embed(["a", "b"])
    embedder.close()


def test_configuration_chooses_the_embedder(server: str, tmp_path: Any) -> None:
    from tidings.ai.embeddings import build_embedder
    from tidings.config import Settings

    assert isinstance(build_embedder(Settings(data_dir=tmp_path)), UniversalSentenceEncoder)
    remote = build_embedder(Settings(data_dir=tmp_path, embeddings_url=server, embeddings_model="m"))
    assert isinstance(remote, OpenAICompatibleEmbedder) and remote.model_name == "m"
    assert remote.embed(["x"]).shape == (1, 3)
