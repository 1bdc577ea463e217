"""The HTTP provider base: one client, sending requests, reading replies and the SSE read loop.

A provider module only builds requests and turns events into chunks (a `StreamDecoder`, see
`json_events.py`); this module sends them and enforces the rules:

- One `httpx.AsyncClient` per provider instance, made on first use and kept across turns, so a
  chat holds one keep-alive connection. A response is always read to its end or closed: a
  cancelled or abandoned stream closes its connection rather than leaving it half read.
- The API key is fetched from the `KeySource` for every request and never appears in messages,
  logs or reprs.
- Every failure leaves through `public()`: its text is cleaned of terminal controls (it holds
  what a server sent) and every secret the provider knows is redacted from it (the key, tokens,
  configured header values, a password in the base URL), once, whatever path built it.
- Requests are fitted to the model before they leave (`fitting.py`): `stream` hands each to the
  provider's `stream_fitted` with its parameters shaped by the model catalog.
- Retries (`retry.py`) happen only before the first chunk reached the consumer; a `RetryNotice`
  is yielded before each wait; its `attempt` is the number of the attempt about to be made
  ("retrying in 0.5 s (attempt 2 of 3)").
- Timeouts (`options.py`): `connect_timeout`; `idle_timeout` between events that carry
  something (comments and keep-alive pings do not count), which also covers the wait for the
  response headers; `total_timeout` for a whole reply. `max_event_bytes` bounds one SSE event.
- A failure before the first chunk raises `ProviderError`; after it, the stream ends with
  `ErrorChunk` (error event, timeout, oversized or malformed event) or `Interrupted` (dropped
  connection, end of body without the protocol's closing event), so the partial reply is kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import aclosing
from itertools import chain
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping, TypeVar

import httpx

from ..chunks import Chunk, RetryNotice
from ..errors import ProviderError
from ..models.catalog import default_catalog, default_model
from ..safe_text import clean
from .base import ChatRequest
from .encoding import JSON_HEADERS, dumps
from .failures import RequestFailed, StreamFailure, error_message, status_hint, trim
from .fitting import Fitter
from .json_events import StreamDecoder
from .options import TransportOptions
from .redaction import Secrets, redact, url_password
from .registry import PROVIDERS, ProviderSettings
from .retry import parse_retry_after, retry_delay, status_is_retryable
from .sse import EventTooLarge, SSEParser
from .token_command import TokenCommand

log = logging.getLogger("tui_chat.providers")

Failure = TypeVar("Failure", RequestFailed, StreamFailure)

ERROR_BODY_LIMIT = 64 * 1024
"""How much of an error response is read to find its message."""
DRAIN_LIMIT = 64 * 1024
"""After the closing event, how much more body is read (to keep the connection) before giving up."""
DRAIN_TIMEOUT = 5.0
USER_AGENT = "tui-chat/0.1"


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
    parameter_names: Mapping[str, str] = {}
    """PromptPack sampling parameter names -> the wire's names; parameters not named here are not sent."""

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        self.settings = settings or ProviderSettings()
        self.options: dict[str, Any] = dict(self.settings.options)
        spec = PROVIDERS.get(self.name)
        self.key_env = spec.key_env if spec else ()
        self.model: str = self.settings.model or default_model(self.name)
        self.base_url: str = (self.settings.base_url or self.default_base_url).rstrip("/")
        self.transport = TransportOptions.from_options(self.options)
        self.catalog = self.settings.catalog or default_catalog()
        self.fitter = Fitter(self.name, self.catalog, self.parameter_names, api_version=self.api_version(), options=self.options)
        self._client: httpx.AsyncClient | None = None
        self._secrets = Secrets()
        """The keys and tokens used so far (the newest few)."""

    def __repr__(self) -> str:
        base_url = redact(getattr(self, "base_url", ""), url_password(getattr(self, "base_url", "")))
        return f"{type(self).__name__}(model={getattr(self, 'model', '')!r}, base_url={base_url!r})"

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
        """`text` without any secret this provider knows: keys and tokens used, configured header values, the URL password."""
        return redact(text, chain(self._secrets, self.transport.headers.values(), url_password(self.base_url)))

    def public(self, failure: Failure) -> Failure:
        """`failure` made fit to show: its text cleaned of terminal controls and every secret redacted.

        Every failure leaves the provider through here, so no path that builds one (an error body,
        a network error, a decoder's message) needs to remember it.
        """
        failure.message = self.redact(clean(failure.message))
        failure.hint = self.redact(clean(failure.hint))
        failure.args = (failure.message,)
        return failure

    def learn(self, reported: tuple[str, dict[str, Any]], source: str) -> str:
        """Teach the catalog what this provider's models endpoint said about one model (read by
        `models/endpoints.py`); returns the model id, cleaned as any text from a server is."""
        model_id, facts = reported
        model_id = clean(model_id)
        if model_id and facts:
            self.catalog.learn(self.name, model_id, facts, source)
        return model_id

    def api_version(self) -> str | None:
        """The API version requests are sent for, where the service has versions that take different parameters."""
        return None

    # -- fitting requests to the model --

    def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """Send `request`, fitted to its model (see fitting.py), and yield the reply as chunks."""
        return self.fitter.stream(request.model or self.model, request, self.stream_fitted)

    def stream_fitted(self, request: ChatRequest, params: dict[str, Any]) -> AsyncIterator[Chunk]:
        """Send `request` with `params` (its fitted parameters, under their wire names) and yield the reply."""
        raise NotImplementedError

    def rejected_param(self, body: str) -> str | None:
        """The request field a 400 body says the model does not take (None: it names none, or the service never does)."""
        return None

    # -- failures --

    def status_failure(self, response: httpx.Response, body: str) -> RequestFailed:
        """The error for an HTTP error status, with the provider's own message."""
        status = response.status_code
        if status == 401 and self.token_command is not None:
            self.token_command.forget()  # an expired token: the command runs again for the next request
        # Redacted before the message is cut to length, so a cut cannot leave part of a secret behind.
        message = error_message(self.redact(body)) if body.strip() else response.reason_phrase
        retryable = status_is_retryable(status, response.headers)
        return RequestFailed(
            f"{self.label} returned {status} {response.reason_phrase}: {message}",
            hint=status_hint(status, retryable, self.key_hint()),
            retryable=retryable,
            status=status,
            retry_after=parse_retry_after(response.headers) if retryable else None,
            rejected_param=self.rejected_param(body) if status == 400 else None,
        )

    def transport_failure(self, error: Exception, url: httpx.URL | str) -> RequestFailed:
        """The error for a network failure before any response."""
        host = httpx.URL(str(url)).host if url else "the server"
        detail = str(error) or type(error).__name__
        if isinstance(error, httpx.ConnectTimeout):
            return RequestFailed(
                f"could not connect to {self.label} at {host}: no answer within {self.transport.connect_timeout:g} s (connect_timeout)",
                hint=self.connect_hint(),
                retryable=True,
            )
        if isinstance(error, httpx.ConnectError):
            return RequestFailed(f"could not connect to {self.label} at {host}: {detail}", hint=self.connect_hint(), retryable=True)
        if isinstance(error, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            return RequestFailed(f"the connection to {self.label} at {host} dropped before a reply: {detail}", retryable=True)
        if isinstance(error, httpx.UnsupportedProtocol):
            return RequestFailed(f"the base URL for {self.label} is not an http(s) URL: {detail}", hint="check the base URL")
        return RequestFailed(f"request to {self.label} at {host} failed: {type(error).__name__}: {detail}", retryable=isinstance(error, httpx.TransportError))

    def connect_hint(self) -> str:
        """What to do when the server cannot be reached."""
        return "check your network and the base URL"

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
                    f"{self.label} sent something that is not JSON (status {response.status_code}, {ctype}): {trim(body)}",
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
                delay = retry_delay(self.public(failure), attempt, attempts, self.transport)
                if delay is None:
                    raise
                await self.transport.sleep(delay)
        raise AssertionError("unreachable")

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
                delay = retry_delay(self.public(failure), attempt, attempts, self.transport)
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
                    f"instead of an event stream: {trim(body) or '(empty body)'}",
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
                if not delivered:
                    raise RequestFailed(failure.message, hint=failure.hint, retryable=failure.auto_retry) from None
                yield [self.public(failure).chunk()]
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
                        f"the connection to {self.label} dropped: {str(error) or type(error).__name__}",
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
