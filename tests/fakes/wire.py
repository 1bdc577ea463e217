"""What the shared provider suite needs from each fake wire protocol.

A `Wire` renders its protocol's events (as the reference documents them: see each module's
docstring) and knows how a correct request looks. The suite composes replies from its pieces:
`start() + text(...) + finish()`, and faults by leaving pieces out or adding `error_event()`.
"""

from __future__ import annotations

from typing import Any, Sequence

from tui_chat.providers.registry import ProviderSettings

from .server import FakeServer, Recorded

Call = tuple[str, str, str]
"""(id, name, arguments JSON text) of a tool call the fake model makes."""


def pieces(text: str, count: int) -> list[str]:
    """`text` cut into `count` nearly equal pieces (none empty unless text is short)."""
    if count <= 1 or len(text) <= 1:
        return [text]
    size = max(1, -(-len(text) // count))
    return [text[i : i + size] for i in range(0, len(text), size)]


class Wire:
    """One wire protocol as served by a fake; subclasses fill in the shapes."""

    provider = ""
    key_env = ""
    """The environment variable a 401 hint must name ("" when the provider needs no key)."""
    model = ""
    tools = True
    """Whether the protocol carries tool calls."""
    usage = True
    """Whether the protocol reports token usage."""
    error_status_path_is_stream = True
    """Whether an HTTP error for a turn is answered on the streaming request (else on a set-up request)."""
    models_path: str | None = None
    """Path of the models endpoint (None: the provider lists its configured model without asking)."""
    models_body: Any = None
    models_expected: list[str] = []

    def settings(self, server: FakeServer, key: str | None, **options: Any) -> ProviderSettings:
        return ProviderSettings(model=self.model, base_url=self.base_url(server), api_key=(lambda: key), options=options)

    def base_url(self, server: FakeServer) -> str:
        return server.url

    def install(self, server: FakeServer) -> None:
        """Install any routes the protocol needs besides the scripted stream (none by default)."""

    def stream_requests(self, server: FakeServer) -> list[Recorded]:
        """The requests that asked for a reply stream."""
        return [request for request in server.requests if request.method == "POST"]

    # -- events --

    def start(self) -> list[bytes]:
        return []

    def text(self, text: str) -> list[bytes]:
        raise NotImplementedError

    def tool_calls(self, calls: Sequence[Call], split: int = 1) -> list[bytes]:
        raise NotImplementedError

    def finish(self, *, tool_calls: bool = False, usage: tuple[int, int] = (11, 7), reason: str = "stop") -> list[bytes]:
        raise NotImplementedError

    def error_event(self, message: str) -> list[bytes]:
        raise NotImplementedError

    def keepalive(self) -> bytes:
        return b": keep-alive\n\n"

    def reply(self, texts: Sequence[str], usage: tuple[int, int] = (11, 7)) -> list[bytes]:
        events = self.start()
        for text in texts:
            events += self.text(text)
        return events + self.finish(usage=usage)

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": "error", "code": status}}

    # -- request checks --

    def check_request(self, request: Recorded, key: str) -> None:
        """Assert the path, method and headers of a stream request (and the key's placement)."""
        raise NotImplementedError

    def check_body(self, body: dict[str, Any]) -> None:
        """Assert the encoding of the suite's standard request (see tests/providers/test_providers.py)."""
        raise NotImplementedError

    def check_tool_history(self, body: dict[str, Any]) -> None:
        """Assert the encoding of a history with an assistant tool call and its (error) result."""
        raise NotImplementedError
