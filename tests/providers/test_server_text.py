"""What a server says reaches the person as plain, harmless text, and what the person configured stays secret.

Over every provider's loopback fake: error bodies, mid-stream error events and model ids carrying
the hostile set (tests/fakes/hostile.py: terminal escapes, C1 and bidi controls, NUL, a lone
surrogate, Rich markup) come out without a control character (the markup stays literal text;
nothing here parses it); an error body that echoes the key, a configured header value or the
password of the base URL comes out with `***` in its place; a refused key gets one clear hint; the
server's `x-should-retry` header overrides the status; and an Ollama that is not running says how
to start it.
"""

from __future__ import annotations

import json
import socket

import pytest

from tests.fakes import hostile as h
from tests.fakes.clock import Sleeps
from tests.fakes.openai_wire import OllamaWire
from tests.fakes.server import FakeServer, Respond, json_response, stream
from tests.fakes.wire import Wire
from tui_chat.chunks import ErrorChunk, Message, RetryNotice, Role, TextDelta
from tui_chat.errors import ProviderError
from tui_chat.providers.base import ChatRequest
from tui_chat.providers.registry import ProviderSettings, create_provider

from .conftest import KEY, collect

HOSTILE = h.hostile("server")
"""The hostile set (tests/fakes/hostile.py) behind a tag."""
HOSTILE_ID = h.fit_for(h.hostile("id"), slash=False, space=False)
"""The same in a model id, without a "/" (Replicate and Vertex take the last part of a path) or a space."""
HEADER_SECRET = "custom-header-secret-4242"
URL_PASSWORD = "url-password-secret-9191"


def hello(wire: Wire) -> ChatRequest:
    return ChatRequest(model=wire.model, messages=(Message(Role.USER, "Hi"),))


async def failure(provider, wire: Wire) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await collect(provider, hello(wire))
    return caught.value


# --- x-should-retry ---------------------------------------------------------------------------


async def test_x_should_retry_false_stops_a_503(wire: Wire, server: FakeServer, make, sleeps: Sleeps) -> None:
    server.enqueue(json_response(wire.error_body(503, "down for good"), 503, {"x-should-retry": "false"}), stream(wire.reply(["no"])))
    error = await failure(make(), wire)
    assert error.status == 503 and not error.retryable
    assert "down for good" in str(error)
    assert sleeps.delays == []
    assert len(wire.stream_requests(server)) == 1


async def test_x_should_retry_true_retries_a_400(wire: Wire, server: FakeServer, make, sleeps: Sleeps) -> None:
    server.enqueue(json_response(wire.error_body(400, "lock held"), 400, {"x-should-retry": "true"}), stream(wire.reply(["ok"])))
    chunks = await collect(make(), hello(wire))
    assert [type(chunk) for chunk in chunks[:1]] == [RetryNotice]
    assert "".join(chunk.text for chunk in chunks if isinstance(chunk, TextDelta)) == "ok"
    assert len(sleeps.delays) == 1
    assert len(wire.stream_requests(server)) == 2


async def test_x_should_retry_true_on_a_list_request(wire: Wire, server: FakeServer, make, sleeps: Sleeps) -> None:
    if not wire.models_path:
        pytest.skip(f"{wire.provider} lists no models from the server")
    server.enqueue(json_response(wire.error_body(404, "not yet"), 404, {"x-should-retry": "true"}), json_response(wire.models_body))
    models = await make().list_models()
    assert [model.id for model in models] == wire.models_expected
    assert len(sleeps.delays) == 1


# --- server text is cleaned where it enters ---------------------------------------------------


async def test_hostile_error_body_comes_out_plain(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(json_response(wire.error_body(400, HOSTILE), 400))
    error = await failure(make(), wire)
    h.assert_harmless(str(error), shows=(f"server{h.MARKUP}", "]0;pwned"))  # what is left of the escape is shown, as text


async def test_hostile_error_body_of_a_retry_comes_out_plain(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(json_response(wire.error_body(503, HOSTILE), 503), stream(wire.reply(["fine"])))
    chunks = await collect(make(), hello(wire))
    [notice] = [chunk for chunk in chunks if isinstance(chunk, RetryNotice)]
    h.assert_harmless(notice.reason, shows=(f"server{h.MARKUP}",))


async def test_hostile_non_json_body_comes_out_plain(wire: Wire, server: FakeServer, make) -> None:
    body = h.fit_for(HOSTILE, surrogate=False)  # a body that is not JSON cannot carry a lone surrogate
    server.enqueue([Respond(502, body.encode(), content_type="text/html")])
    error = await failure(make(retries=0), wire)
    h.assert_harmless(str(error), shows=(f"server{h.MARKUP}",))


async def test_hostile_mid_stream_error_event_comes_out_plain(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(stream(h.on_the_wire(lambda planted: [*wire.start(), *wire.text("partial"), *wire.error_event(planted(HOSTILE))])))
    chunks = await collect(make(), hello(wire))
    errors = [chunk for chunk in chunks if isinstance(chunk, ErrorChunk)]
    assert len(errors) == 1
    h.assert_harmless(errors[0].message, shows=(f"server{h.MARKUP}", "]0;pwned"))


async def test_hostile_model_ids_are_listed_plain(wire: Wire, server: FakeServer, make) -> None:
    if not wire.models_path:
        pytest.skip(f"{wire.provider} lists no models from the server")
    last = wire.models_expected[-1].rpartition("/")[2]  # Replicate's ids are owner/name
    body = json.dumps(wire.models_body).replace(f'{last}"', f'{last}{json.dumps(HOSTILE_ID)[1:-1]}"')
    server.enqueue(json_response(json.loads(body)))
    models = await make().list_models()
    hostile = [model for model in models if "pwned" in model.id]
    assert len(hostile) == 1
    h.assert_harmless(hostile[0].id, shows=("id[bold]B[bold]",))  # the "/" of [/bold] cannot be in these ids


# --- secrets never come back ------------------------------------------------------------------


async def test_error_body_echoing_configured_secrets_is_redacted(wire: Wire, server: FakeServer, make) -> None:
    echo = f"bad credentials: key {KEY}, Authorization: Bearer {KEY}, X-Api-Key: {KEY}, X-Custom: {HEADER_SECRET}, url password {URL_PASSWORD}"
    server.enqueue(json_response(wire.error_body(401, echo), 401))
    provider = make(headers={"X-Custom": HEADER_SECRET})
    provider.base_url = provider.base_url.replace("http://", f"http://tester:{URL_PASSWORD}@", 1)
    error = await failure(provider, wire)
    text = f"{error} {error.hint}"
    for secret in (KEY, HEADER_SECRET, URL_PASSWORD):
        assert secret not in text
    assert "bad credentials" in text and "***" in text
    [request] = wire.stream_requests(server)
    assert request.headers.get("x-custom") == HEADER_SECRET  # the header was really sent


async def test_a_secret_cut_by_the_length_limit_leaves_no_part_behind(wire: Wire, server: FakeServer, make) -> None:
    from tui_chat.providers.failures import SHOWN_BODY_LIMIT

    # The header value straddles the point where the shown message is cut.
    echo = "x" * (SHOWN_BODY_LIMIT - 12) + " " + HEADER_SECRET + " and more"
    server.enqueue(json_response(wire.error_body(401, echo), 401))
    error = await failure(make(headers={"X-Custom": HEADER_SECRET}), wire)
    assert HEADER_SECRET[:8] not in str(error)


def test_a_provider_repr_hides_the_url_password(make) -> None:
    provider = make()
    provider.base_url = provider.base_url.replace("http://", f"http://tester:{URL_PASSWORD}@", 1)
    assert URL_PASSWORD not in repr(provider)
    assert "tester:***@" in repr(provider)


# --- Ollama not running -----------------------------------------------------------------------


async def test_ollama_not_running_suggests_ollama_serve(monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    provider = create_provider("ollama", ProviderSettings(model="llama3.2", options={"sleep": sleeps, "retries": 0}))
    try:
        error = await failure(provider, OllamaWire())
    finally:
        await provider.aclose()
    assert "could not connect to Ollama" in str(error)
    assert "ollama serve" in error.hint
    assert f"http://127.0.0.1:{port}" in error.hint
    assert "check your network" not in error.hint


# --- a refused key: one clear hint ------------------------------------------------------------


async def test_a_refused_key_gets_one_clear_hint(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(json_response(wire.error_body(401, "request not authorised"), 401))
    error = await failure(make(), wire)
    text = str(error)
    assert "the the" not in text
    assert text.count(error.hint) == 1 and text.lower().count("api key") <= 1, text  # the advice is said once
    assert "request not authorised" in error.message
    if wire.key_env:
        assert wire.key_env in error.hint
