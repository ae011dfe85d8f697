"""Generative mode's transport: one small `ChatProvider` protocol and an OpenAI-compatible client.

Why the OpenAI chat-completions protocol: Ollama, vLLM, llama.cpp's server, LM Studio and OpenAI
itself all speak it, so one client configured by base URL, model name and (optional) key covers
self-hosted and hosted models alike. Nothing here knows about articles or citations; grounding
lives in `tidings.ai.grounded`, which only needs `complete()` and `stream()`.

Failure policy, because a language model is an optional extra and must never take a page down:

- Every error is an `LLMError` subclass: `LLMUnavailable` (cannot connect, timed out, 429/5xx,
  circuit open), `LLMBadResponse` (not a chat completion), `LLMRejected` (other 4xx: wrong key,
  unknown model). Callers catch `LLMError` and fall back to extractive output.
- Three timeouts: connect, read (the longest silence between bytes) and total (the whole call,
  retries and streaming included).
- Retries with exponential backoff (honouring `Retry-After`) on 429, 5xx and network errors before
  a response arrives; never once streaming has begun, since the caller already showed the deltas.
- A circuit breaker: after a few consecutive failures the server is not contacted at all for a
  cooldown, so a dead model server costs nothing per request; then a single trial call decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal, Protocol, runtime_checkable

import httpx

from tidings.errors import TidingsError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}

_MAX_RETRY_AFTER = 10.0  # seconds; a longer Retry-After is treated as "unavailable now"
_ERROR_DETAIL_CHARS = 300


class LLMError(TidingsError):
    """The language model could not be used."""

    code = "llm_error"
    status = 502


class LLMUnavailable(LLMError):
    """The language model server did not answer in time, failed, or is skipped after repeated failures."""

    code = "llm_unavailable"
    status = 503


class LLMBadResponse(LLMError):
    """The language model server answered something that is not a chat completion."""

    code = "llm_bad_response"


class LLMRejected(LLMError):
    """The language model server refused the request (wrong key, unknown model, prompt too long)."""

    code = "llm_rejected"


@runtime_checkable
class ChatProvider(Protocol):
    model: str

    async def complete(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.2) -> str:
        """The whole reply text."""
        ...

    def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float = 0.2
    ) -> AsyncIterator[str]:
        """The reply as text deltas, in order; errors surface as `LLMError` while iterating."""
        ...


class CircuitBreaker:
    """Closed → (`threshold` consecutive failures) → open → (`cooldown` s) → half-open → one trial.

    While open, `acquire()` refuses at once. Half-open lets exactly one trial call through: its
    success closes the circuit, its failure re-opens it for another cooldown. A call that ends with
    no verdict (cancelled, e.g. the browser went away) must `release()` so the trial slot frees up.
    Not thread-safe: one breaker per event loop, like the client that owns it.
    """

    def __init__(
        self, *, threshold: int = 3, cooldown: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._clock() - self._opened_at >= self.cooldown else "open"

    def acquire(self) -> bool:
        """Whether a call may go out now; in half-open state this claims the single trial."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_running = False

    def record_failure(self) -> None:
        self._failures += 1
        self._trial_running = False
        # A failed trial re-opens at once; otherwise only a run of `threshold` failures opens it.
        if self._opened_at is not None or self._failures >= self.threshold:
            self._opened_at = self._clock()

    def release(self) -> None:
        """The call ended without telling whether the server works: free the trial slot."""
        self._trial_running = False


def chat_completions_url(base_url: str) -> str:
    """`{base}/v1/chat/completions`, whether `base_url` was given with or without its `/v1`."""
    base = base_url.strip().rstrip("/")
    base = base.removesuffix("/chat/completions").rstrip("/")
    base = base.removesuffix("/v1")
    return f"{base}/v1/chat/completions"


class OpenAICompatibleChat:
    """A `ChatProvider` for any server speaking OpenAI's `/v1/chat/completions`.

    Use one instance per event loop (it holds a connection pool and a circuit breaker) and
    `aclose()` it on shutdown. `transport` replaces the network, for tests.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        total_timeout: float = 60.0,
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self.url = chat_completions_url(base_url)
        self.total_timeout = total_timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.breaker = breaker or CircuitBreaker()
        headers = {"Accept": "application/json, text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        # No SSRF guard here on purpose: the URL comes from the operator's configuration, and the
        # usual target is a model server on localhost or the private network.
        self._client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            transport=transport,
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> OpenAICompatibleChat:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _body(
        self, messages: list[Message], max_tokens: int, temperature: float, stream: bool
    ) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": stream,
        }

    async def complete(self, messages: list[Message], *, max_tokens: int, temperature: float = 0.2) -> str:
        body = self._body(messages, max_tokens, temperature, stream=False)
        with self._guarded():
            try:
                async with asyncio.timeout(self.total_timeout):
                    response = await self._open(body)
                    try:
                        await response.aread()
                    finally:
                        await response.aclose()
            except TimeoutError as exc:
                raise LLMUnavailable(f"no reply within {self.total_timeout:g} s") from exc
            except httpx.TimeoutException as exc:
                raise LLMUnavailable(f"timed out reading the reply: {exc!r}") from exc
            except httpx.HTTPError as exc:
                raise LLMUnavailable(f"connection failed while reading the reply: {exc!r}") from exc
            return _completion_text(_json(response.content))

    async def stream(
        self, messages: list[Message], *, max_tokens: int, temperature: float = 0.2
    ) -> AsyncIterator[str]:
        body = self._body(messages, max_tokens, temperature, stream=True)
        # A deadline rather than `asyncio.timeout` around the loop: a timeout spanning `yield` would
        # also cancel whatever the consumer does with each delta.
        deadline = asyncio.get_running_loop().time() + self.total_timeout
        with self._guarded():
            try:
                async with asyncio.timeout_at(deadline):
                    response = await self._open(body)
                try:
                    if "text/event-stream" not in response.headers.get("content-type", ""):
                        # The server ignored "stream": true and sent one completion: one delta.
                        async with asyncio.timeout_at(deadline):
                            await response.aread()
                        text = _completion_text(_json(response.content))
                        if text:
                            yield text
                        return
                    async for delta in _sse_deltas(response.aiter_lines(), deadline):
                        yield delta
                finally:
                    await response.aclose()
            except TimeoutError as exc:
                raise LLMUnavailable(f"reply not finished within {self.total_timeout:g} s") from exc
            except httpx.TimeoutException as exc:
                raise LLMUnavailable(f"timed out while streaming: {exc!r}") from exc
            except httpx.HTTPError as exc:
                # Mid-stream: never retried, the caller has already shown part of the reply.
                raise LLMUnavailable(f"connection failed while streaming: {exc!r}") from exc

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[None]:
        """Consult the circuit breaker before a call and tell it how the call went."""
        if not self.breaker.acquire():
            raise LLMUnavailable("the model server failed repeatedly; not contacting it for now")
        verdict = False
        try:
            yield
        except LLMRejected:
            verdict = True
            self.breaker.record_success()  # the server is up and answering quickly; the request is wrong
            raise
        except LLMError:
            verdict = True
            self.breaker.record_failure()
            raise
        else:
            verdict = True
            self.breaker.record_success()
        finally:
            if not verdict:
                self.breaker.release()

    async def _open(self, body: dict[str, Any]) -> httpx.Response:
        """POST with retries; a 2xx response whose body is still unread (the caller closes it)."""
        attempt = 0
        while True:
            retry_after: float | None = None
            try:
                request = self._client.build_request("POST", self.url, json=body)
                response = await self._client.send(request, stream=True)
            except httpx.ReadTimeout as exc:
                # The model is slow, not down: retrying would only double the wait.
                raise LLMUnavailable(f"no reply from {self.url} in time") from exc
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                # Nothing was generated yet, and a chat completion has no side effects: safe to retry.
                error: LLMError = LLMUnavailable(f"cannot reach {self.url}: {exc!r}")
            except httpx.HTTPError as exc:
                raise LLMUnavailable(f"request to {self.url} failed: {exc!r}") from exc
            else:
                if response.is_success:
                    return response
                detail = await _error_detail(response)
                status = response.status_code
                if status != 429 and status < 500:
                    raise LLMRejected(f"HTTP {status} from {self.url}: {detail}")
                error = LLMUnavailable(f"HTTP {status} from {self.url}: {detail}")
                retry_after = _retry_after(response.headers.get("retry-after"))
            if attempt >= self.max_retries or (retry_after is not None and retry_after > _MAX_RETRY_AFTER):
                raise error
            delay = self.retry_backoff * 2**attempt
            await asyncio.sleep(max(delay, retry_after or 0.0))
            attempt += 1


async def _sse_deltas(lines: AsyncIterator[str], deadline: float) -> AsyncIterator[str]:
    """Text deltas from an OpenAI-style server-sent event stream, until `data: [DONE]`.

    Per the SSE format: lines starting with ":" are comments (keep-alives), `data:` lines of one
    event are joined with newlines, a blank line ends the event, other fields are ignored.
    """
    data: list[str] = []
    finished = False  # a choice reported its finish_reason: the end even without [DONE]
    while True:
        async with asyncio.timeout_at(deadline):
            line = await anext(lines, None)
        if line is not None and line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
            continue
        if line is not None and line.strip():
            continue  # a comment, or an event:/id:/retry: field
        if data:
            payload = "\n".join(data)
            data = []
            if payload.strip() == "[DONE]":
                return
            delta, done = _chunk_delta(_json(payload.encode()))
            finished = finished or done
            if delta:
                yield delta
        if line is None:
            if not finished:
                raise LLMBadResponse("the stream ended before [DONE]")
            return


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise LLMBadResponse(f"not JSON: {raw[:_ERROR_DETAIL_CHARS]!r}") from exc


def _server_error(data: dict[str, Any]) -> str | None:
    error = data.get("error")
    if error is None:
        return None
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def _completion_text(data: Any) -> str:
    if not isinstance(data, dict):
        raise LLMBadResponse("the reply is not a JSON object")
    if (error := _server_error(data)) is not None:
        raise LLMBadResponse(f"the server reported an error: {error[:_ERROR_DETAIL_CHARS]}")
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMBadResponse("the reply has no choices[0].message.content") from exc
    if not isinstance(content, str):
        raise LLMBadResponse("the reply's content is not text")
    return content


def _chunk_delta(data: Any) -> tuple[str, bool]:
    """(text delta, whether a finish_reason was given) of one streamed chunk."""
    if not isinstance(data, dict):
        raise LLMBadResponse("a streamed chunk is not a JSON object")
    if (error := _server_error(data)) is not None:
        raise LLMBadResponse(f"the server reported an error mid-stream: {error[:_ERROR_DETAIL_CHARS]}")
    choices = data.get("choices")
    if not isinstance(choices, list):
        raise LLMBadResponse("a streamed chunk has no choices")
    if not choices:
        return "", False  # e.g. a usage-only chunk
    choice = choices[0]
    delta = choice.get("delta") if isinstance(choice, dict) else None
    if not isinstance(delta, dict):
        raise LLMBadResponse("a streamed chunk has no choices[0].delta")
    content = delta.get("content")
    if content is not None and not isinstance(content, str):
        raise LLMBadResponse("a streamed delta's content is not text")
    return content or "", bool(choice.get("finish_reason"))


async def _error_detail(response: httpx.Response) -> str:
    """A short, single-line excerpt of an error body, for the log; never raises."""
    try:
        await response.aread()
        text = response.text
    except httpx.HTTPError:
        text = ""
    finally:
        await response.aclose()
    return " ".join(text.split())[:_ERROR_DETAIL_CHARS]


def _retry_after(value: str | None) -> float | None:
    # Only the delta-seconds form; an HTTP date is rare from model servers and falls back to backoff.
    try:
        return max(float(value), 0.0) if value else None
    except ValueError:
        return None
