"""What the WebSocket voice providers share: connecting, reading, sending, close codes, reconnecting.

`WsBidiSession` is a `BidiSession` over one WebSocket at a time. A provider module subclasses it
and supplies the URL and headers, the handshake (`_handshake`: its set-up messages, on a fresh
connection or when reconnecting), what to do with each server message (`_on_message`) and with a
lost connection (`_connection_lost`). The rules, the same for every provider:

- The API key comes from the settings' key source (the provider's environment variables when
  there is none), is sent in a header, never in the URL, and is removed from every message shown.
- Opening the session is retried like an HTTP request (`retries`, backoff from
  `retry_base_delay` doubling to `retry_max_delay` with jitter) on connect errors, time-outs, 429
  and 5xx; 401/403/404 and other refusals fail at once with the server's message.
- Close codes: 1000 (the server ended the session), 1002/1003/1007/1008/1009/1010 and 4000-4999
  (policy, invalid payload, a refused request) end the session with the server's reason; no
  reconnect loop. 1001, 1006 (no close frame: the connection dropped), 1011-1014 and anything else
  reconnect with backoff, up to `reconnects` times; the reply in progress is reported cut off, a
  `RetryNotice` precedes each wait, and the provider resumes what it can (`_handshake(resume=True)`).
- A server message that is not JSON, or not an object, is reported as an `ErrorChunk` and
  skipped; the session goes on. Binary frames are read as UTF-8 JSON text.
- `max_message_bytes` (16 MiB, websockets' own default is 1 MiB) bounds one server message; a
  larger one ends the session with a message naming the option.
- All of it (connecting, reading, decoding, sending, reconnecting) runs on the session's own
  thread and loop (`BidiSession.threaded`), so a busy front end never holds up its reply audio.
- Audio sent while reconnecting is dropped (it is live, and stale by the time it could go);
  anything else sent then waits and is sent once the connection is back.

Options (`ProviderSettings.options`): `connect_timeout` (10 s), `setup_timeout` (10 s: waiting
for the server to confirm the session set-up), `retries` (2), `reconnects` (5),
`retry_base_delay`, `retry_max_delay`, `jitter`, `max_message_bytes`, `ping_interval` (20 s, None:
no pings), `headers` (extra handshake headers); tests may pass `sleep` and `random` (see
`providers.options.TransportOptions`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import urlsplit, urlunsplit

from ..chunks import ErrorChunk, RetryNotice
from ..errors import ProviderError
from ..providers.encoding import loads
from ..providers.failures import RequestFailed, error_message, status_hint, trim
from ..providers.options import TransportOptions, option_number
from ..providers.redaction import Secrets, redact
from ..providers.registry import PROVIDERS, ProviderSettings, env_key
from ..providers.transport import USER_AGENT
from .base import BidiSession

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

log = logging.getLogger("tui_chat.realtime")

DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
FATAL_CLOSE_CODES = frozenset({1000, 1002, 1003, 1007, 1008, 1009, 1010, 1015})
"""Close codes after which reconnecting would only meet the same refusal (plus 4000-4999)."""
CLOSE_NAMES = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1006: "connection lost without a close frame",
    1007: "invalid payload",
    1008: "policy violation",
    1009: "message too big",
    1010: "missing extension",
    1011: "internal server error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
}


def is_fatal_close(code: int) -> bool:
    """Whether a close code ends the session (as opposed to a reconnect)."""
    return code in FATAL_CLOSE_CODES or 4000 <= code <= 4999


def ws_url(base: str, *, default_path: str = "") -> str:
    """`base` as a ws(s) URL: http -> ws, https -> wss; `default_path` is appended to a bare host."""
    parts = urlsplit(base.strip())
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme.lower(), parts.scheme.lower())
    path = parts.path.rstrip("/")
    if not path and default_path:
        path = default_path
    return urlunsplit((scheme, parts.netloc, path, parts.query, ""))


@dataclass(frozen=True, slots=True)
class WsOptions:
    """Connection options of a WebSocket session (see the module text)."""

    transport: TransportOptions
    setup_timeout: float = 10.0
    reconnects: int = 5
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    ping_interval: float | None = 20.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> WsOptions:
        transport = TransportOptions.from_options(options)
        ping = options["ping_interval"] if "ping_interval" in options else 20.0
        return cls(
            transport=transport,
            setup_timeout=option_number(options, "setup_timeout", 10.0, minimum=0.001) or 10.0,
            reconnects=int(option_number(options, "reconnects", 5, minimum=0) or 0),
            max_message_bytes=int(option_number(options, "max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES, minimum=1024) or DEFAULT_MAX_MESSAGE_BYTES),
            ping_interval=option_number({"ping_interval": ping}, "ping_interval", None, minimum=0.001),
        )


def dumps(message: Any) -> bytes:
    """A client message as compact UTF-8 JSON (sent as a text frame)."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is optional
        return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return orjson.dumps(message)


class _Closed(Exception):
    """The connection being read has closed: `code` and `reason` say how."""

    def __init__(self, code: int, reason: str, *, too_big: bool = False) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason
        self.too_big = too_big


def close_info(ws: Any) -> _Closed:
    """How `ws` closed: the code and reason the server sent, 1009 when we refused a message."""
    exc = getattr(ws, "close_exc", None)
    sent = getattr(exc, "sent", None)
    rcvd = getattr(exc, "rcvd", None)
    if sent is not None and sent.code == 1009:
        return _Closed(1009, sent.reason, too_big=True)
    if rcvd is not None:
        return _Closed(int(rcvd.code), rcvd.reason or "")
    return _Closed(1006, "")


class WsBidiSession(BidiSession):
    """A `BidiSession` over a WebSocket (see the module text); provider modules subclass it."""

    label = ""
    """How the provider is named in messages."""
    text_provider = ""
    """The registry name of the text provider whose key this session uses."""
    exact_markers: tuple[bytes, ...] = ()
    """Server messages containing one of these are parsed with `json.loads` (exact big integers)."""
    threaded = True  # read, decode and reconnect on the session's own thread (see `base`)

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or ProviderSettings()
        self.options: dict[str, Any] = dict(self.settings.options)
        self.ws_options = WsOptions.from_options(self.options)
        self._secrets = Secrets()
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reconnecting = False
        self._backlog: list[bytes] = []
        self._moving: asyncio.Task[Any] | None = None
        """A planned move to a new connection (the server said it will close this one)."""
        self._away = False
        """The server said it will close the connection: its close is no reason to end the session."""
        self.reconnects = 0
        """How many times the connection was re-established."""
        self.dropped_audio_bytes = 0
        """Audio that could not be sent because the connection was being re-established."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={getattr(self, 'model', '')!r})"

    # --- what a provider module supplies ---------------------------------------------------------

    def _url(self) -> str:
        raise NotImplementedError

    def _headers(self, key: str) -> dict[str, str]:
        raise NotImplementedError

    async def _handshake(self, ws: ClientConnection, resume: bool) -> None:
        """Set the session up on a new connection (`resume`: after a reconnect)."""
        raise NotImplementedError

    async def _on_message(self, message: dict[str, Any]) -> None:
        raise NotImplementedError

    def _connection_lost(self, reason: str) -> None:
        """The connection dropped and will be re-established: forget per-connection state."""

    # --- keys and messages -----------------------------------------------------------------------

    def key_hint(self) -> str:
        spec = PROVIDERS.get(self.text_provider)
        names = spec.key_env if spec else ()
        where = f"the api key in the [providers.{self.text_provider}] config"
        return f"set {' or '.join(names)}, or {where}" if names else f"set {where}"

    def api_key(self) -> str:
        """The key for the next connection, from the key source (or the environment)."""
        key: str | None = None
        source = self.settings.api_key
        if source is not None:
            try:
                key = source()
            except Exception as error:  # noqa: BLE001 - a broken key source is a config problem
                raise ProviderError(f"could not read the {self.label} API key: {type(error).__name__}", hint=self.key_hint()) from None
        key = (key or "").strip()
        if not key and self.text_provider in PROVIDERS:
            key = env_key(PROVIDERS[self.text_provider]) or ""
        if not key:
            raise ProviderError(f"no API key for {self.label}", hint=self.key_hint())
        if key not in self._secrets:
            self._secrets.append(key)
            del self._secrets[:-8]
        return key

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def _warn(self, message: str, hint: str = "") -> None:
        """Report something that went wrong without ending the session."""
        self._emit(ErrorChunk(self.redact(message), hint))

    # --- connecting ------------------------------------------------------------------------------

    async def _open_socket(self) -> ClientConnection:
        """Open the WebSocket; failures raise `RequestFailed` (retryable or not)."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

        url = self._url()
        key = self.api_key()
        headers = {**dict(self.ws_options.transport.headers), **self._headers(key)}
        host = urlsplit(url).netloc or "the server"
        timeout = self.ws_options.transport.connect_timeout
        try:
            return await connect(
                url,
                additional_headers=headers,
                user_agent_header=USER_AGENT,
                open_timeout=timeout,
                max_size=self.ws_options.max_message_bytes,
                compression=None,
                ping_interval=self.ws_options.ping_interval,
                ping_timeout=self.ws_options.ping_interval,
                close_timeout=2.0,
            )
        except InvalidStatus as error:
            raise self._status_failure(error, host) from None
        except InvalidURI:
            raise RequestFailed(f"the {self.label} URL is not a ws(s) URL: {self.redact(url)}", hint="check the base URL") from None
        except (TimeoutError, asyncio.TimeoutError):
            raise RequestFailed(
                f"could not connect to {self.label} at {host}: no answer within {timeout:g} s (connect_timeout)",
                hint="check your network and the base URL",
                retryable=True,
            ) from None
        except (OSError, InvalidHandshake) as error:
            detail = self.redact(str(error)) or type(error).__name__
            raise RequestFailed(
                f"could not connect to {self.label} at {host}: {detail}",
                hint="check your network and the base URL",
                retryable=True,
            ) from None

    def _status_failure(self, error: Any, host: str) -> RequestFailed:
        response = error.response
        status = int(response.status_code)
        body = bytes(response.body or b"")[:65536].decode("utf-8", "replace")
        message = self.redact(error_message(body)) if body.strip() else (response.reason_phrase or "")
        retryable = status in (408, 429) or status >= 500
        hint = status_hint(status, retryable, self.key_hint())
        text = f"{self.label} at {host} refused the connection: {status}" + (f" {message}" if message else "")
        return RequestFailed(text, hint=hint, retryable=retryable, status=status)

    async def _establish(self, resume: bool) -> ClientConnection:
        """A new connection with the session set up on it; failures raise `ProviderError`."""
        ws = await self._open_socket()
        try:
            async with asyncio.timeout(self.ws_options.setup_timeout):
                await self._handshake(ws, resume)
        except (TimeoutError, asyncio.TimeoutError):
            await self._abandon(ws)
            raise RequestFailed(
                f"{self.label} did not confirm the session set-up within {self.ws_options.setup_timeout:g} s (setup_timeout)",
                hint="the service may be overloaded; try again",
                retryable=True,
            ) from None
        except BaseException:
            await self._abandon(ws)
            raise
        return ws

    async def _abandon(self, ws: ClientConnection) -> None:
        try:
            async with asyncio.timeout(2.0):
                await ws.close()
        except Exception:  # noqa: BLE001 - it is being thrown away
            ws.transport.abort()

    async def _connect(self) -> None:
        attempts = self.ws_options.transport.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                self._ws = await self._establish(resume=False)
                break
            except RequestFailed as failure:
                if not failure.retryable or attempt >= attempts:
                    if failure.retryable and attempts > 1:
                        failure.message = f"{failure.message} (gave up after {attempts} attempts)"
                        failure.args = (failure.message,)
                    raise
                await self.ws_options.transport.sleep(self.ws_options.transport.backoff(attempt))
        self._reader = asyncio.create_task(self._read(), name=f"{self.provider}-reader")

    async def _recv_message(self, ws: ClientConnection) -> dict[str, Any] | None:
        """The next server message during a handshake (None for one that is not a JSON object)."""
        from websockets.exceptions import ConnectionClosed

        try:
            raw = await ws.recv()
        except ConnectionClosed:
            closed = close_info(ws)
            raise self._close_error(closed, during_setup=True) from None
        return self._decode(raw)

    # --- reading ---------------------------------------------------------------------------------

    def _decode(self, raw: str | bytes) -> dict[str, Any] | None:
        """A server message as a dict, or None (reported) when it is not a JSON object."""
        try:
            if isinstance(raw, (bytes, bytearray, memoryview)):
                data = bytes(raw)
                exact = any(marker in data for marker in self.exact_markers)
                message = json.loads(data) if exact else loads(data)  # type: ignore[arg-type]
            else:
                exact = any(marker.decode() in raw for marker in self.exact_markers)
                message = json.loads(raw) if exact else loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            text = raw if isinstance(raw, str) else bytes(raw[:200]).decode("utf-8", "replace")
            self._warn(
                f"{self.label} sent a message that is not valid JSON ({trim(text, 120)!r}): {error}; it was skipped",
                "this is a problem with the server or a proxy in between",
            )
            return None
        if not isinstance(message, dict):
            self._warn(f"{self.label} sent a message that is not a JSON object ({type(message).__name__}); it was skipped")
            return None
        return message

    async def _read(self) -> None:
        """Read server messages until the session ends; reconnect or fail as the close code says."""
        try:
            while not self._closed:
                ws = self._ws
                assert ws is not None
                try:
                    async for raw in ws:
                        message = self._decode(raw)
                        if message is not None:
                            await self._on_message(message)
                        if self._closed:
                            return
                except Exception as error:
                    from websockets.exceptions import ConnectionClosed

                    if not isinstance(error, ConnectionClosed):
                        raise
                if self._closed:
                    return
                if ws is not self._ws:
                    continue  # replaced by a fresh connection (a planned move)
                moving = self._moving
                if moving is not None and not moving.done():
                    await asyncio.wait({moving})
                    if ws is not self._ws:
                        continue
                closed = close_info(ws)
                if closed.too_big or (is_fatal_close(closed.code) and not self._away):
                    self._end(self._close_error(closed))
                    return
                await self._reconnect(closed)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug: end the session with what it was, not silently
            log.exception("%s reader failed", self.provider)
            self._end(ProviderError(f"the {self.label} session failed: {type(error).__name__}: {self.redact(str(error))}"))

    def _close_error(self, closed: _Closed, *, during_setup: bool = False) -> ProviderError:
        code, reason = closed.code, self.redact(closed.reason.strip())
        if closed.too_big:
            return ProviderError(
                f"{self.label} sent a message larger than {self.ws_options.max_message_bytes} bytes (max_message_bytes); the session was ended",
                hint="raise max_message_bytes if this is expected",
            )
        name = CLOSE_NAMES.get(code, "closed")
        said = f": {reason}" if reason else ""
        when = " during the session set-up" if during_setup else ""
        if code == 1000:
            message = f"{self.label} ended the session{when}{said}"
        else:
            message = f"{self.label} closed the connection{when}{said} (code {code}, {name})"
        hint = ""
        if code in (1007, 1008) or 4000 <= code <= 4999:
            hint = "the service refused the session or a message; check the model, the options and the API key"
        retryable = not is_fatal_close(code)
        return RequestFailed(message, hint=hint, retryable=retryable) if during_setup else ProviderError(message, hint=hint, retryable=retryable)

    def _end(self, error: ProviderError) -> None:
        """The session cannot go on: report it, let go of the connection and the tasks."""
        self._fail(error)
        for task in list(self._tasks):
            task.cancel()
        ws = self._ws
        if ws is not None:
            self._spawn(self._abandon(ws))

    async def _reconnect(self, closed: _Closed) -> None:
        """Re-establish the connection after it dropped, with backoff; fail after `reconnects` tries."""
        reason = self.redact(closed.reason.strip())
        what = f"the connection to {self.label} dropped (code {closed.code}, {CLOSE_NAMES.get(closed.code, 'closed')}{': ' + reason if reason else ''})"
        self._reconnecting = True
        self._connection_lost(what)
        total = self.ws_options.reconnects
        last: ProviderError | None = None
        for attempt in range(1, total + 1):
            delay = self.ws_options.transport.backoff(attempt)
            self._emit(RetryNotice(delay, attempt, total, f"{what}; reconnecting"))
            await self.ws_options.transport.sleep(delay)
            if self._closed:
                return
            try:
                ws = await self._establish(resume=True)
            except RequestFailed as failure:
                last = failure
                if not failure.retryable:
                    break
                continue
            except ProviderError as failure:
                last = failure
                break
            self._ws = ws
            self._reconnecting = False
            self._away = False
            self.reconnects += 1
            await self._flush_backlog()
            return
        if total == 0:
            self._end(ProviderError(what, hint="the session could not go on (reconnects is 0)", retryable=True))
        elif last is not None and not last.retryable:
            self._end(ProviderError(f"{what}, and reconnecting failed: {last.message}", hint=last.hint))
        else:
            detail = f": {last.message}" if last is not None else ""
            self._end(ProviderError(f"{what}, and {total} attempts to reconnect failed{detail}", hint="check your network; start the session again", retryable=True))

    # --- sending ---------------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any] | bytes, *, droppable: bool = False) -> None:
        """Send a client message; while reconnecting, audio (`droppable`) is dropped, the rest waits."""
        from websockets.exceptions import ConnectionClosed

        data = message if isinstance(message, bytes) else dumps(message)
        ws = self._ws
        if ws is None or self._reconnecting:
            self._hold(data, droppable)
            return
        try:
            await ws.send(data, text=True)
        except ConnectionClosed:
            self._hold(data, droppable)  # the reader sees the close and reconnects (or fails)

    def _hold(self, data: bytes, droppable: bool) -> None:
        if droppable:
            self.dropped_audio_bytes += len(data)
        elif not self._closed:
            self._backlog.append(data)

    async def _flush_backlog(self) -> None:
        backlog, self._backlog = self._backlog, []
        for data in backlog:
            await self._send(data)

    # --- tasks and closing -----------------------------------------------------------------------

    def _spawn(self, coroutine: Any, name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.error("%s task failed", self.provider, exc_info=error)
            self._warn(f"the {self.label} session hit an internal error: {type(error).__name__}: {error}")

    async def _disconnect(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in (*self._tasks, self._reader) if t is not None and t is not current and not t.done()]
        ws = self._ws
        if ws is not None:
            await self._abandon(ws)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
