"""What every HTTP provider shares: one client, options, retries, timeouts and the SSE read loop.

A provider module only builds requests and turns events into chunks (a `StreamDecoder`); this
module sends them and enforces the rules:

- One `httpx.AsyncClient` per provider instance, made on first use and kept across turns, so a
  chat holds one keep-alive connection. A response is always read to its end or closed: a
  cancelled or abandoned stream closes its connection rather than leaving it half read.
- The API key is fetched from the `KeySource` for every request and never appears in messages,
  logs or reprs (`redact` removes it from anything a server sends back).
- Retries happen only before the first chunk reached the consumer: `retries` more attempts (2),
  backoff `retry_base_delay` (0.5 s) doubling up to `retry_max_delay` (8 s) with jitter, on
  connect errors, a connection dropped before any reply, 408, 409, 429, 5xx and 529, and on a
  retryable error event that arrives before any content. `retry-after-ms` / `Retry-After` are
  honoured up to `max_retry_after` (60 s); a longer wait is not slept, the error says when to try
  again. A `RetryNotice` is yielded before each wait; its `attempt` is the number of the attempt
  about to be made ("retrying in 0.5 s (attempt 2 of 3)").
- Timeouts: `connect_timeout` (10 s); `idle_timeout` (120 s) between events that carry something
  (comments and keep-alive pings do not count), which also covers the wait for the response
  headers; `total_timeout` (none) for a whole reply.
- `max_event_bytes` (8 MiB) bounds one SSE event; see `sse.py`.
- A failure before the first chunk raises `ProviderError`; after it, the stream ends with
  `ErrorChunk` (error event, timeout, oversized or malformed event) or `Interrupted` (dropped
  connection, end of body without the protocol's closing event), so the partial reply is kept.

Options (the `options` dict of `ProviderSettings`, all optional): `connect_timeout`,
`idle_timeout`, `total_timeout`, `max_event_bytes`, `retries`, `retry_base_delay`,
`retry_max_delay`, `max_retry_after`, `headers` (extra request headers). Tests may also pass
`sleep` (an async callable used for backoff waits) and `random` (a callable returning [0, 1)).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import math
import random as _random
import time
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Protocol

import httpx

from ..chunks import Chunk, ErrorChunk, Interrupted, RetryNotice
from ..errors import ProviderError
from .encoding import JSON_HEADERS, dumps, loads
from .registry import PROVIDERS, ProviderSettings
from .sse import DEFAULT_MAX_EVENT_BYTES, EventTooLarge, SSEEvent, SSEParser

if TYPE_CHECKING:
    from .token_command import TokenCommand

log = logging.getLogger("tui_chat.providers")

RETRYABLE_STATUSES = frozenset({408, 409, 429, 529})
ERROR_BODY_LIMIT = 64 * 1024
"""How much of an error response is read to find its message."""
SHOWN_BODY_LIMIT = 300
"""How many characters of an unexpected body are shown in a message."""
DRAIN_LIMIT = 64 * 1024
"""After the closing event, how much more body is read (to keep the connection) before giving up."""
DRAIN_TIMEOUT = 5.0
USER_AGENT = "tui-chat/0.1"


# --- options ----------------------------------------------------------------------------------


def option_number(options: Mapping[str, Any], key: str, default: float | None, *, minimum: float = 0.0) -> float | None:
    """A numeric provider option, checked: None when unset with no default."""
    value = options.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < minimum:
        raise ProviderError(f"option {key!r} must be a number of at least {minimum:g}, not {value!r}")
    return float(value)


def status_hint(status: int, retryable: bool, key_advice: str) -> str:
    """What to do about an HTTP error status from a provider (HTTP or a WebSocket handshake);
    `key_advice` is said for 401 and 403 (which key setting to check, never the key)."""
    if status in (401, 403):
        return key_advice
    if status == 404:
        return "check the model name and the base URL"
    if status == 429:
        return "you are being rate limited or are out of quota"
    return "the service is having trouble; try again shortly" if retryable else ""


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """Timeouts, limits and retry policy, read from a provider's options."""

    connect_timeout: float = 10.0
    idle_timeout: float = 120.0
    total_timeout: float | None = None
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    retries: int = 2
    retry_base_delay: float = 0.5
    retry_max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25
    headers: Mapping[str, str] = field(default_factory=dict)
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    random: Callable[[], float] = _random.random

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TransportOptions:
        """Validate the transport options in `options`; other keys are left to the provider."""
        d = cls()
        headers = options.get("headers") or {}
        if not isinstance(headers, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise ProviderError("option 'headers' must be a table of header names to string values")
        sleep = options.get("sleep", d.sleep)
        rand = options.get("random", d.random)
        if not callable(sleep) or not callable(rand):
            raise ProviderError("options 'sleep' and 'random' must be callables")
        retries = option_number(options, "retries", d.retries)
        max_event = option_number(options, "max_event_bytes", d.max_event_bytes, minimum=1)
        return cls(
            connect_timeout=option_number(options, "connect_timeout", d.connect_timeout, minimum=0.001) or d.connect_timeout,
            idle_timeout=option_number(options, "idle_timeout", d.idle_timeout, minimum=0.001) or d.idle_timeout,
            total_timeout=option_number(options, "total_timeout", None, minimum=0.001),
            max_event_bytes=int(max_event or d.max_event_bytes),
            retries=int(retries if retries is not None else d.retries),
            retry_base_delay=option_number(options, "retry_base_delay", d.retry_base_delay) or 0.0,
            retry_max_delay=option_number(options, "retry_max_delay", d.retry_max_delay) or 0.0,
            max_retry_after=option_number(options, "max_retry_after", d.max_retry_after) or 0.0,
            jitter=min(1.0, option_number(options, "jitter", d.jitter) or 0.0),
            headers=dict(headers),
            sleep=sleep,
            random=rand,
        )

    def backoff(self, retry: int) -> float:
        """The wait before retry number `retry` (1-based): doubling from the base, capped, minus jitter."""
        delay = min(self.retry_max_delay, self.retry_base_delay * (2 ** (retry - 1)))
        return delay * (1.0 - self.jitter * self.random())


# --- errors -----------------------------------------------------------------------------------


class RequestFailed(ProviderError):
    """A request failed before anything reached the consumer. `retry_after` is the server's wish, in seconds."""

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint=hint, retryable=retryable, status=status)
        self.retry_after = retry_after


class StreamFailure(Exception):
    """Raised by a decoder (or the read loop) when the stream went wrong.

    `interrupted` marks a stream that was cut off (kept as interrupted) rather than one that failed
    (kept as error); `retryable` says whether trying again could help; `auto_retry` whether the
    transport may retry by itself when nothing was delivered yet (default: `retryable`).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        retryable: bool = False,
        interrupted: bool = False,
        auto_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.retryable = retryable
        self.interrupted = interrupted
        self.auto_retry = retryable if auto_retry is None else auto_retry

    def chunk(self) -> Chunk:
        if self.interrupted:
            return Interrupted(self.message)
        return ErrorChunk(self.message, self.hint, self.retryable)


class Secrets(list[str]):
    """The keys and tokens in use, to be removed from messages; its repr never shows them."""

    def __repr__(self) -> str:
        return f"<{len(self)} secret(s) hidden>"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (of 4 characters or more) replaced by `***`."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "***")
    return text


def trim(text: str, limit: int = SHOWN_BODY_LIMIT) -> str:
    """`text` on one line, cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_message(body: str) -> str:
    """The human message inside an error body, in any of the shapes the providers use."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return trim(body)
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("type") or error.get("status")
            if isinstance(message, str) and message:
                return trim(message)
        if isinstance(error, str) and error:
            return trim(error)
        for key in ("message", "detail", "title", "msg"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return trim(value)
            if isinstance(value, list) and value and isinstance(value[0], dict):
                # FastAPI / Mistral validation errors: [{"loc": [...], "msg": "..."}].
                return trim("; ".join(str(item.get("msg", item)) for item in value[:3]))
    return trim(body)


def parse_retry_after(headers: httpx.Headers, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from `retry-after-ms` or `Retry-After` (seconds or a date)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _describe_wait(seconds: float) -> str:
    if seconds < 120:
        return f"{math.ceil(seconds)} s"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


# --- the decoder protocol ---------------------------------------------------------------------


class StreamDecoder(Protocol):
    """Turns one response's SSE events into chunks. One decoder per attempt.

    `complete` is set once the reply has said it is finished (a finish reason); `terminal` once
    the protocol's closing event arrived (nothing more will follow). `finish()` gives the last
    chunks (tool calls held back, usage, `Done`) and is called only when `complete`.

    `feed` is given every event, keep-alives included, and gives nothing for a keep-alive.
    `is_keepalive` is asked only about the events of a read that gave no chunk, to tell whether
    the server did anything (for `idle_timeout`): a read that gave a chunk did. (Asking it of every
    event cost a method call per event, on the hottest path of a reply.)
    """

    complete: bool
    terminal: bool

    def feed(self, event: SSEEvent) -> Iterable[Chunk]: ...

    def finish(self) -> Iterable[Chunk]: ...

    def is_keepalive(self, event: SSEEvent) -> bool: ...


def load_json(event: SSEEvent, *, exact: bool = False) -> Any:
    """The JSON in an event's data, or a `StreamFailure` naming the event.

    `exact` parses with the standard library, which keeps integers beyond 64 bits exact (see
    `encoding.loads`): for the rare events whose parsed values are turned back into JSON text.
    """
    try:
        return json.loads(event.data) if exact else loads(event.data)
    except ValueError as error:
        raise StreamFailure(
            f"the server sent an event that is not valid JSON ({event.event!r}: {trim(event.data, 120)!r}): {error}",
            hint="this is a problem with the server or a proxy in between",
        ) from None


# --- the HTTP provider base -------------------------------------------------------------------


class HTTPProvider:
    """Base of the providers that speak HTTP + SSE. Subclasses set the class attributes below."""

    name: str = ""
    label: str = ""
    """How the provider is named in messages ("OpenAI")."""
    key_env: tuple[str, ...] = ()
    """Environment variables the key comes from, named in hints when the key is missing or refused."""
    requires_key: bool = True
    default_base_url: str = ""
    token_command: TokenCommand | None = None
    """Where bearer tokens come from, for a provider that runs a command for them (token_command.py)."""

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        self.settings = settings or ProviderSettings()
        self.options: dict[str, Any] = dict(self.settings.options)
        spec = PROVIDERS.get(self.name)
        self.key_env = spec.key_env if spec else ()
        self.model: str = self.settings.model or (spec.default_model if spec else "")
        self.base_url: str = (self.settings.base_url or self.default_base_url).rstrip("/")
        self.transport = TransportOptions.from_options(self.options)
        self._client: httpx.AsyncClient | None = None
        self._secrets = Secrets()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={getattr(self, 'model', '')!r}, base_url={getattr(self, 'base_url', '')!r})"

    # -- the client and the key --

    @property
    def client(self) -> httpx.AsyncClient:
        """The one client of this provider, made on first use."""
        if self._client is None or self._client.is_closed:
            t = self.transport
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(connect=t.connect_timeout, read=None, write=max(t.connect_timeout, 30.0), pool=t.connect_timeout),
                limits=httpx.Limits(max_connections=10, max_keepalive_connections=5, keepalive_expiry=60.0),
                follow_redirects=False,
                headers={"user-agent": USER_AGENT, **dict(t.headers)},
            )
        return self._client

    async def aclose(self) -> None:
        """Close the client and its connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def key_hint(self) -> str:
        if self.key_env:
            return f"set {' or '.join(self.key_env)}, or the api key in the [providers.{self.name}] config"
        return f"set the api key in the [providers.{self.name}] config"

    def api_key(self, *, required: bool | None = None) -> str | None:
        """The key for the next request, from the key source (asked every time)."""
        required = self.requires_key if required is None else required
        source = self.settings.api_key
        key: str | None = None
        if source is not None:
            try:
                key = source()
            except Exception as error:  # noqa: BLE001 - a broken key source is a config problem, shown as one line
                raise ProviderError(f"could not read the {self.label} API key: {type(error).__name__}", hint=self.key_hint()) from None
        key = key.strip() if key else None
        if not key and required:
            raise ProviderError(f"no API key for {self.label}", hint=self.key_hint())
        if key:
            self.remember_secret(key)
        return key

    def remember_secret(self, secret: str) -> None:
        """Keep `secret` out of every message from now on."""
        if secret not in self._secrets:
            self._secrets.append(secret)
            del self._secrets[:-8]

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    # -- failures --

    def status_failure(self, response: httpx.Response, body: str) -> RequestFailed:
        """The error for an HTTP error status, with the provider's own message."""
        status = response.status_code
        if status == 401 and self.token_command is not None:
            self.token_command.forget()  # an expired token: the command runs again for the next request
        message = self.redact(error_message(body)) if body.strip() else response.reason_phrase
        retryable = status in RETRYABLE_STATUSES or status >= 500
        return RequestFailed(
            f"{self.label} returned {status} {response.reason_phrase}: {message}",
            hint=status_hint(status, retryable, f"check the {self.label} API key: {self.key_hint()}"),
            retryable=retryable,
            status=status,
            retry_after=parse_retry_after(response.headers) if retryable else None,
        )

    def transport_failure(self, error: Exception, url: httpx.URL | str) -> RequestFailed:
        """The error for a network failure before any response."""
        host = httpx.URL(str(url)).host if url else "the server"
        detail = self.redact(str(error)) or type(error).__name__
        if isinstance(error, httpx.ConnectTimeout):
            return RequestFailed(
                f"could not connect to {self.label} at {host}: no answer within {self.transport.connect_timeout:g} s (connect_timeout)",
                hint="check your network and the base URL",
                retryable=True,
            )
        if isinstance(error, httpx.ConnectError):
            return RequestFailed(f"could not connect to {self.label} at {host}: {detail}", hint="check your network and the base URL", retryable=True)
        if isinstance(error, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            return RequestFailed(f"the connection to {self.label} at {host} dropped before a reply: {detail}", retryable=True)
        if isinstance(error, httpx.UnsupportedProtocol):
            return RequestFailed(f"the base URL for {self.label} is not an http(s) URL: {detail}", hint="check the base URL")
        return RequestFailed(f"request to {self.label} at {host} failed: {type(error).__name__}: {detail}", retryable=isinstance(error, httpx.TransportError))

    def _timeout_for(self, deadline: float | None, idle: float | None = None) -> float:
        loop = asyncio.get_running_loop()
        timeout = self.transport.idle_timeout if idle is None else idle
        if deadline is not None:
            timeout = min(timeout, deadline - loop.time())
        return max(timeout, 0.0)

    def _timeout_message(self, deadline: float | None, *, before_reply: bool) -> tuple[str, str]:
        loop = asyncio.get_running_loop()
        if deadline is not None and loop.time() >= deadline - 1e-3:
            return (
                f"{self.label} did not finish within {self.transport.total_timeout:g} s (total_timeout)",
                "raise total_timeout for long replies",
            )
        what = "sent nothing" if before_reply else "sent nothing more"
        return (
            f"{self.label} {what} for {self.transport.idle_timeout:g} s (idle_timeout)",
            "the service may be overloaded; try again, or raise idle_timeout",
        )

    # -- plain requests --

    async def read_body(self, response: httpx.Response, limit: int = ERROR_BODY_LIMIT, deadline: float | None = None) -> str:
        """Up to `limit` bytes of `response`'s body, as text (never more is held)."""
        parts: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self._timeout_for(deadline)), aclosing(response.aiter_bytes()) as body:
                async for data in body:
                    parts.append(data)
                    size += len(data)
                    if size >= limit:
                        break
        except (TimeoutError, httpx.HTTPError):
            pass
        return b"".join(parts)[:limit].decode("utf-8", "replace")

    async def send(self, request: httpx.Request, deadline: float | None = None) -> httpx.Response:
        """Send `request` (streamed), mapping network failures and header timeouts to `RequestFailed`."""
        log.debug("%s %s %s", self.name, request.method, request.url.copy_with(query=None))
        try:
            async with asyncio.timeout(self._timeout_for(deadline)):
                return await self.client.send(request, stream=True)
        except TimeoutError:
            message, hint = self._timeout_message(deadline, before_reply=True)
            raise RequestFailed(message, hint=hint) from None
        except httpx.HTTPError as error:
            raise self.transport_failure(error, request.url) from None

    async def request_json(self, request: httpx.Request, deadline: float | None = None, limit: int = 16 * 1024 * 1024) -> Any:
        """Send `request` and return its JSON body; failures raise `RequestFailed`."""
        response = await self.send(request, deadline)
        try:
            if response.status_code >= 400:
                raise self.status_failure(response, await self.read_body(response, deadline=deadline))
            body = await self.read_body(response, limit + 1, deadline)
            if len(body) > limit:
                raise RequestFailed(f"{self.label} sent a reply larger than {limit} bytes")
            try:
                return json.loads(body)
            except ValueError:
                ctype = response.headers.get("content-type", "no content type")
                raise RequestFailed(
                    f"{self.label} sent something that is not JSON (status {response.status_code}, {ctype}): {self.redact(trim(body))}",
                    hint="check the base URL; a proxy may be answering instead of the service",
                ) from None
        finally:
            await response.aclose()

    async def with_retries(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """Run `call` with the retry policy, silently (for list_models and other plain requests)."""
        attempts = self.transport.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except RequestFailed as failure:
                delay = self._retry_delay(failure, attempt, attempts)
                if delay is None:
                    raise
                await self.transport.sleep(delay)
        raise AssertionError("unreachable")

    def _retry_delay(self, failure: RequestFailed, attempt: int, attempts: int) -> float | None:
        """How long to wait before the next attempt, or None to give up (the failure is amended)."""
        if not failure.retryable:
            return None
        if attempt >= attempts:
            if attempts > 1:
                failure.message = f"{failure.message} (gave up after {attempts} attempts)"
                failure.args = (failure.message,)
            return None
        if failure.retry_after is not None:
            if failure.retry_after > self.transport.max_retry_after:
                wait = _describe_wait(failure.retry_after)
                failure.message = f"{failure.message}; the service asks to retry after {wait}"
                failure.args = (failure.message,)
                failure.hint = f"try again in {wait}"
                return None
            return failure.retry_after
        return self.transport.backoff(attempt)

    # -- streams --

    def auth_headers(self, key: str | None) -> dict[str, str]:
        """The headers that carry `key` (none by default)."""
        return {}

    async def request_auth(self) -> dict[str, str]:
        """Authentication headers for one request; the key is read afresh for each."""
        return self.auth_headers(self.api_key())

    def post_sse(self, url: str, body: Mapping[str, Any], decoder: Callable[[], StreamDecoder]) -> AsyncIterator[Chunk]:
        """POST `body` as JSON to `url` and yield the decoded event stream (with retries)."""
        content = dumps(body)

        async def build(deadline: float | None) -> httpx.Request:
            headers = {**JSON_HEADERS, **(await self.request_auth())}
            return self.client.build_request("POST", url, headers=headers, content=content)

        return self.stream_sse(build, decoder)

    async def stream_sse(
        self,
        build: Callable[[float | None], Awaitable[httpx.Request]],
        decoder: Callable[[], StreamDecoder],
    ) -> AsyncIterator[Chunk]:
        """Send the request `build` makes (once per attempt) and yield the decoded reply, with retries."""
        loop = asyncio.get_running_loop()
        total = self.transport.total_timeout
        deadline = loop.time() + total if total else None
        attempts = self.transport.retries + 1
        attempt = 1
        while True:
            try:
                async with aclosing(self._attempt(build, decoder, deadline)) as batches:
                    async for batch in batches:
                        for chunk in batch:
                            yield chunk
                return
            except RequestFailed as failure:
                delay = self._retry_delay(failure, attempt, attempts)
                if delay is None:
                    raise
                if deadline is not None and loop.time() + delay >= deadline:
                    raise
                attempt += 1
                log.debug("%s retry %d of %d in %.2f s: %s", self.name, attempt, attempts, delay, failure.message)
                yield RetryNotice(delay, attempt, attempts, failure.message)
                await self.transport.sleep(delay)

    async def _attempt(
        self,
        build: Callable[[float | None], Awaitable[httpx.Request]],
        make_decoder: Callable[[], StreamDecoder],
        deadline: float | None,
    ) -> AsyncIterator[list[Chunk]]:
        """One attempt, as lists of chunks (see `_events`). Raises `RequestFailed` only if it has yielded nothing."""
        request = await build(deadline)
        response = await self.send(request, deadline)
        try:
            if response.status_code >= 400:
                raise self.status_failure(response, await self.read_body(response, deadline=deadline))
            ctype = response.headers.get("content-type", "")
            if ctype.split(";")[0].strip().lower() != "text/event-stream":
                body = await self.read_body(response, 4096, deadline)
                raise RequestFailed(
                    f"{self.label} answered with {ctype or 'no content type'} (status {response.status_code}) "
                    f"instead of an event stream: {self.redact(trim(body)) or '(empty body)'}",
                    hint="check the base URL; a proxy or gateway may be answering instead of the service",
                    status=response.status_code,
                )
            delivered = False
            try:
                async with aclosing(self._events(response, make_decoder(), deadline)) as batches:
                    async for batch in batches:
                        delivered = True
                        yield batch
            except StreamFailure as failure:
                message = self.redact(failure.message)
                if not delivered:
                    raise RequestFailed(message, hint=failure.hint, retryable=failure.auto_retry) from None
                failure.message = message
                yield [failure.chunk()]
        finally:
            await response.aclose()

    async def _events(self, response: httpx.Response, decoder: StreamDecoder, deadline: float | None) -> AsyncIterator[list[Chunk]]:
        """The chunks of one event-stream response, in one list per network read (never an empty list).

        Lists rather than single chunks because every async generator a chunk passes through costs
        time per chunk, and a read often holds many events. Failures raise `StreamFailure`, after
        the chunks that came before them in the same read have been yielded.
        """
        body = response.aiter_bytes()
        try:
            loop = asyncio.get_running_loop()
            parser = SSEParser(self.transport.max_event_bytes)
            idle = self.transport.idle_timeout
            last_activity = loop.time()
            while True:
                remaining = last_activity + idle - loop.time()
                if deadline is not None:
                    remaining = min(remaining, deadline - loop.time())
                try:
                    async with asyncio.timeout(max(remaining, 0.0)):
                        data = await anext(body)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    if decoder.complete:
                        break
                    message, hint = self._timeout_message(deadline, before_reply=False)
                    raise StreamFailure(message, hint=hint, retryable=True, auto_retry=False) from None
                except httpx.HTTPError as error:
                    if decoder.complete:
                        break
                    raise StreamFailure(
                        f"the connection to {self.label} dropped: {self.redact(str(error)) or type(error).__name__}",
                        retryable=True,
                        interrupted=True,
                    ) from None
                try:
                    events = parser.feed(data)
                except EventTooLarge as error:
                    raise StreamFailure(
                        f"{self.label} sent an event larger than {error.limit} bytes (max_event_bytes); the reply was stopped",
                        hint="raise max_event_bytes if this is expected",
                    ) from None
                chunks: list[Chunk] = []
                try:
                    for event in events:
                        chunks += decoder.feed(event)
                        if decoder.terminal:
                            break
                except Exception:  # a StreamFailure, or a bug: either way what came before it is delivered first
                    if chunks:
                        yield chunks
                    raise
                if chunks:
                    yield chunks  # time the consumer spends here is not the server's idleness: see below
                if decoder.terminal:
                    await self._drain(body)
                    async for batch in self._finish(decoder):
                        yield batch
                    return
                if chunks or not all(decoder.is_keepalive(event) for event in events):
                    last_activity = loop.time()
            chunks = []
            try:
                for event in parser.close():
                    chunks += decoder.feed(event)
            except Exception:
                if chunks:
                    yield chunks
                raise
            if chunks:
                yield chunks
            if not decoder.complete:
                raise StreamFailure(
                    f"the {self.label} stream ended before the reply was finished",
                    retryable=True,
                    interrupted=True,
                )
            async for batch in self._finish(decoder):
                yield batch
        finally:
            await body.aclose()  # type: ignore[attr-defined]

    @staticmethod
    async def _finish(decoder: StreamDecoder) -> AsyncIterator[list[Chunk]]:
        """The decoder's last chunks as one list; if it fails part way, what it gave before the failure first."""
        chunks: list[Chunk] = []
        try:
            for chunk in decoder.finish():
                chunks.append(chunk)
        except Exception:
            if chunks:
                yield chunks
            raise
        if chunks:
            yield chunks

    async def _drain(self, body: AsyncIterator[bytes]) -> None:
        """Read what is left of the body after the closing event, so the connection can be reused."""
        size = 0
        try:
            async with asyncio.timeout(min(DRAIN_TIMEOUT, self.transport.idle_timeout)):
                async for data in body:
                    size += len(data)
                    if size > DRAIN_LIMIT:
                        return
        except (TimeoutError, httpx.HTTPError):
            return
