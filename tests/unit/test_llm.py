"""The OpenAI-compatible chat client against scripted servers (httpx.MockTransport): request shape,
SSE parsing, retries, timeouts and the circuit breaker."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tidings.ai.llm import (
    ChatProvider,
    CircuitBreaker,
    LLMBadResponse,
    LLMError,
    LLMRejected,
    LLMUnavailable,
    OpenAICompatibleChat,
    chat_completions_url,
)

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def completion(text: str) -> httpx.Response:
    return httpx.Response(
        200, json={"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    )


def chunk(text: str | None, finish: str | None = None) -> str:
    delta = {} if text is None else {"content": text}
    return (
        "data: " + json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"
    )


def sse_response(*parts: str | bytes, status: int = 200) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part.encode() if isinstance(part, str) else part

    return httpx.Response(status, headers={"content-type": "text/event-stream"}, content=body())


def client(handler: Callable[[httpx.Request], Any], **options: Any) -> OpenAICompatibleChat:
    options.setdefault("retry_backoff", 0.0)
    return OpenAICompatibleChat(
        base_url="http://llm.test:8080", model="tiny", transport=httpx.MockTransport(handler), **options
    )


async def collect(stream: AsyncIterator[str]) -> list[str]:
    return [delta async for delta in stream]


# --- shape -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "base",
    ["http://h:1", "http://h:1/", "http://h:1/v1", "http://h:1/v1/", "http://h:1/v1/chat/completions"],
)
def test_base_url_with_or_without_v1(base: str) -> None:
    assert chat_completions_url(base) == "http://h:1/v1/chat/completions"


def test_base_url_keeps_a_path_prefix() -> None:
    assert (
        chat_completions_url("https://api.example/openai/v1")
        == "https://api.example/openai/v1/chat/completions"
    )


async def test_complete_request_shape_and_auth() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return completion("Hello [1].")

    async with client(handler, api_key="sk-secret") as chat:
        assert await chat.complete(MESSAGES, max_tokens=50, temperature=0.1) == "Hello [1]."
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "http://llm.test:8080/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-secret"
    body = json.loads(request.content)
    assert body == {
        "model": "tiny",
        "messages": MESSAGES,
        "max_tokens": 50,
        "temperature": 0.1,
        "stream": False,
    }


async def test_no_auth_header_without_a_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return completion("ok")

    async with client(handler) as chat:
        await chat.complete(MESSAGES, max_tokens=5)
    assert "authorization" not in seen[0].headers


@pytest.mark.parametrize(
    "payload",
    [{"choices": []}, {"choices": [{"message": {"content": None}}]}, {"error": {"message": "boom"}}, [1, 2]],
)
async def test_malformed_completion_is_a_bad_response(payload: object) -> None:
    async with client(lambda request: httpx.Response(200, json=payload)) as chat:
        with pytest.raises(LLMBadResponse):
            await chat.complete(MESSAGES, max_tokens=5)


async def test_non_json_completion_is_a_bad_response() -> None:
    async with client(lambda request: httpx.Response(200, text="<html>proxy error</html>")) as chat:
        with pytest.raises(LLMBadResponse):
            await chat.complete(MESSAGES, max_tokens=5)


def test_satisfies_the_chat_provider_protocol() -> None:
    chat = OpenAICompatibleChat(base_url="http://h:1", model="m")
    assert isinstance(chat, ChatProvider)
    for name in ("complete", "stream"):
        expected, actual = getattr(ChatProvider, name), getattr(OpenAICompatibleChat, name)
        assert list(inspect.signature(actual).parameters) == list(inspect.signature(expected).parameters)
    assert inspect.iscoroutinefunction(OpenAICompatibleChat.complete)
    assert inspect.isasyncgenfunction(OpenAICompatibleChat.stream)


# --- streaming ---------------------------------------------------------------------------------------


async def test_stream_request_and_multi_chunk_sse() -> None:
    seen: list[dict[str, Any]] = []
    wire = (
        chunk(None)
        + chunk("Hel")
        + ": keep-alive\n\n"
        + chunk("lo")
        + chunk(" world", "stop")
        + "data: [DONE]\n\n"
    )

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        # Network chunks cut lines and events anywhere.
        return sse_response(*(wire[i : i + 7] for i in range(0, len(wire), 7)))

    async with client(handler) as chat:
        assert await collect(chat.stream(MESSAGES, max_tokens=20)) == ["Hel", "lo", " world"]
    assert seen[0]["stream"] is True


async def test_stream_stops_at_done_and_ignores_other_fields() -> None:
    wire = [
        ": ping\n\n",
        "event: message\nid: 1\n" + chunk("a"),
        "retry: 1000\n\n",
        "data: [DONE]\n\n",
        chunk("never"),
    ]
    async with client(lambda request: sse_response(*wire)) as chat:
        assert await collect(chat.stream(MESSAGES, max_tokens=5)) == ["a"]


async def test_stream_usage_chunk_without_choices_is_skipped() -> None:
    wire = [chunk("x"), 'data: {"choices": [], "usage": {"total_tokens": 3}}\n\n', "data: [DONE]\n\n"]
    async with client(lambda request: sse_response(*wire)) as chat:
        assert await collect(chat.stream(MESSAGES, max_tokens=5)) == ["x"]


@pytest.mark.parametrize(
    "bad",
    [
        "data: {not json\n\n",
        'data: {"choices": [{"text": "legacy"}]}\n\n',
        'data: {"error": {"message": "model crashed"}}\n\n',
        'data: ["a"]\n\n',
    ],
)
async def test_malformed_sse_is_a_bad_response(bad: str) -> None:
    async with client(lambda request: sse_response(chunk("ok"), bad, "data: [DONE]\n\n")) as chat:
        received: list[str] = []
        with pytest.raises(LLMBadResponse):
            async for delta in chat.stream(MESSAGES, max_tokens=5):
                received.append(delta)
        assert received == ["ok"]


async def test_stream_cut_off_before_done_is_a_bad_response() -> None:
    async with client(lambda request: sse_response(chunk("half"))) as chat:
        with pytest.raises(LLMBadResponse):
            await collect(chat.stream(MESSAGES, max_tokens=5))


async def test_stream_ending_with_finish_reason_but_no_done_is_complete() -> None:
    async with client(lambda request: sse_response(chunk("all", "stop"))) as chat:
        assert await collect(chat.stream(MESSAGES, max_tokens=5)) == ["all"]


async def test_server_ignoring_stream_flag_gives_one_delta() -> None:
    async with client(lambda request: completion("whole reply")) as chat:
        assert await collect(chat.stream(MESSAGES, max_tokens=5)) == ["whole reply"]


# --- retries, timeouts -------------------------------------------------------------------------------


async def test_retries_on_503_then_succeeds() -> None:
    statuses = iter([503, 502])
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        status = next(statuses, 200)
        return completion("finally") if status == 200 else httpx.Response(status, text="loading model")

    async with client(handler, max_retries=2) as chat:
        assert await chat.complete(MESSAGES, max_tokens=5) == "finally"
    assert len(calls) == 3


async def test_retries_on_429_and_connect_errors_then_gives_up() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(429, headers={"retry-after": "0"}, text="slow down")

    async with client(handler, max_retries=2) as chat:
        with pytest.raises(LLMUnavailable, match="429"):
            await chat.complete(MESSAGES, max_tokens=5)
    assert len(calls) == 3


async def test_long_retry_after_is_not_waited_for() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(429, headers={"retry-after": "3600"})

    async with client(handler, max_retries=3) as chat:
        with pytest.raises(LLMUnavailable):
            await chat.complete(MESSAGES, max_tokens=5)
    assert len(calls) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_no_retry_on_client_errors(status: int) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, json={"error": {"message": "model 'tiny' not found"}})

    async with client(handler, max_retries=3) as chat:
        with pytest.raises(LLMRejected, match="not found"):
            await chat.complete(MESSAGES, max_tokens=5)
        assert chat.breaker.state == "closed"  # the server answered: not a reason to stop asking it
    assert len(calls) == 1


async def test_stream_retries_before_the_first_byte_only() -> None:
    calls: list[int] = []

    async def broken() -> AsyncIterator[bytes]:
        yield chunk("partial").encode()
        raise httpx.ReadError("connection reset")

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(503)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=broken())

    async with client(handler, max_retries=3) as chat:
        received: list[str] = []
        with pytest.raises(LLMUnavailable):
            async for delta in chat.stream(MESSAGES, max_tokens=5):
                received.append(delta)
    assert received == ["partial"]
    assert len(calls) == 2  # the 503 was retried; the failure after streaming began was not


async def test_read_timeout_is_unavailable_and_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadTimeout("no bytes", request=request)

    async with client(handler, max_retries=3) as chat:
        with pytest.raises(LLMUnavailable):
            await chat.complete(MESSAGES, max_tokens=5)
    assert len(calls) == 1


async def test_total_timeout_bounds_a_slow_server() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return completion("too late")

    async with client(handler, total_timeout=0.05) as chat:
        with pytest.raises(LLMUnavailable, match="within"):
            await chat.complete(MESSAGES, max_tokens=5)


async def test_total_timeout_bounds_a_slow_stream() -> None:
    async def trickle() -> AsyncIterator[bytes]:
        yield chunk("a").encode()
        await asyncio.sleep(5)
        yield chunk("b", "stop").encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=trickle())

    async with client(handler, total_timeout=0.1) as chat:
        received: list[str] = []
        with pytest.raises(LLMUnavailable):
            async for delta in chat.stream(MESSAGES, max_tokens=5):
                received.append(delta)
    assert received == ["a"]


# --- circuit breaker ---------------------------------------------------------------------------------


def test_breaker_opens_after_consecutive_failures_and_half_opens() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, cooldown=30, clock=clock)
    assert breaker.acquire()
    breaker.record_failure()
    breaker.record_success()  # resets the count: only consecutive failures open it
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.acquire()
    clock.now += 29.9
    assert not breaker.acquire()
    clock.now += 0.1
    assert breaker.state == "half_open"
    assert breaker.acquire()  # the one trial
    assert not breaker.acquire()  # everyone else waits for its verdict
    breaker.record_failure()  # the trial failed: open for another cooldown
    assert breaker.state == "open"
    clock.now += 30
    assert breaker.acquire()
    breaker.record_success()
    assert breaker.state == "closed" and breaker.acquire() and breaker.acquire()


def test_breaker_trial_without_verdict_frees_the_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=5, clock=clock)
    breaker.record_failure()
    clock.now += 5
    assert breaker.acquire()
    breaker.release()
    assert breaker.acquire()


async def test_client_circuit_opens_then_half_opens() -> None:
    clock = Clock()
    calls: list[int] = []
    healthy = False

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if not healthy:
            raise httpx.ConnectError("refused", request=request)
        return completion("back")

    breaker = CircuitBreaker(threshold=2, cooldown=60, clock=clock)
    async with client(handler, max_retries=0, breaker=breaker) as chat:
        for _ in range(2):
            with pytest.raises(LLMUnavailable, match="cannot reach"):
                await chat.complete(MESSAGES, max_tokens=5)
        assert breaker.state == "open"
        for _ in range(5):  # while open, a dead server costs nothing: no request goes out
            with pytest.raises(LLMUnavailable, match="not contacting"):
                await chat.complete(MESSAGES, max_tokens=5)
            with pytest.raises(LLMUnavailable, match="not contacting"):
                await collect(chat.stream(MESSAGES, max_tokens=5))
        assert len(calls) == 2
        clock.now += 60
        healthy = True
        assert await chat.complete(MESSAGES, max_tokens=5) == "back"
        assert breaker.state == "closed" and len(calls) == 3


async def test_bad_responses_count_as_failures() -> None:
    breaker = CircuitBreaker(threshold=2, cooldown=60, clock=Clock())
    async with client(lambda request: httpx.Response(200, text="nope"), breaker=breaker) as chat:
        for _ in range(2):
            with pytest.raises(LLMError):
                await chat.complete(MESSAGES, max_tokens=5)
    assert breaker.state == "open"


async def test_abandoned_stream_releases_the_half_open_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=1, cooldown=1, clock=clock)
    breaker.record_failure()
    clock.now += 1
    wire = [chunk("a"), chunk("b"), "data: [DONE]\n\n"]
    async with client(lambda request: sse_response(*wire), breaker=breaker) as chat:
        stream = chat.stream(MESSAGES, max_tokens=5)
        assert isinstance(stream, AsyncGenerator)
        assert await anext(stream) == "a"
        await stream.aclose()  # the reader went away mid-answer: no verdict
        assert breaker.state == "half_open"
        assert await collect(chat.stream(MESSAGES, max_tokens=5)) == ["a", "b"]
    assert breaker.state == "closed"
