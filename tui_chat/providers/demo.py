"""The offline demo provider: no network, no key, a real Markdown reply to what was typed.

It is the default when no key is configured, so that a fresh install shows every part of the UI
at once, and it is the provider the UI tests and benchmarks use. Its replies depend only on the
conversation, never on the clock or chance, so snapshots are stable.

Options (config `[providers.demo]` or `--speed`):
- `speed`: tokens per second (default 60); 0 streams as fast as the consumer takes them.
- `first_token_delay`: seconds of "thinking" before the first token (default 0.4; 0 at speed 0).
- `reply`: when set, always reply with this text (for tests and screenshots).
- `reply_chunks`: when set, reply with a long generated Markdown document of that many chunks.
- `fail_after_chunks`: when set, fail with an error after that many chunks (to show errors).
- `hold_after_chunks`: when set, stop after that many chunks and wait until cancelled (to show a
  reply mid-stream in screenshots and tests).

Tool calling: when the request offers the tool, "what time is it" calls `current_time`,
"calculate 17*23" calls `calculator` and "list the files here" calls `list_directory`; the reply
then ends with `Done(TOOL_CALLS)`. When the history ends with tool results, the reply is a short
Markdown answer made from them.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, AsyncIterator

from ..chunks import (
    Chunk,
    Done,
    ErrorChunk,
    FinishReason,
    Message,
    Role,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    Usage,
    UsageChunk,
)
from ..models.catalog import default_catalog, default_model
from .base import Capabilities, ChatRequest, ModelInfo
from .registry import ProviderSettings

DEFAULT_SPEED = 60.0
_TOKEN = re.compile(r"\s*\S+|\s+")


def split_tokens(text: str) -> list[str]:
    """Split text into word-sized pieces, each keeping the white space in front of it."""
    return _TOKEN.findall(text)


def _quote(text: str, limit: int = 120) -> str:
    """The user's text as a Markdown block quote, shortened to `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return "> " + (flat or "(nothing)")


def compose_reply(prompt: str, turn: int) -> str:
    """The demo's Markdown reply to `prompt`, the `turn`-th user message of the chat."""
    words = prompt.split()
    lines = prompt.count("\n") + 1 if prompt else 0
    lowered = prompt.lower()
    parts = [
        "**This is tui-chat's offline demo.** No model is involved: this reply is put together "
        "from what you typed. To talk to a real model, set `OPENAI_API_KEY`, `ANTHROPIC_API_KEY` "
        "or `GEMINI_API_KEY` and start again, or choose one with `tui-chat --provider NAME`.",
        f"You wrote {len(words)} word{'s' if len(words) != 1 else ''} (message {turn} of this chat):",
        _quote(prompt),
    ]
    if "?" in prompt:
        parts.append(
            "That reads like a question. A real model would answer it; the demo can only show "
            "how an answer *looks* while it streams in."
        )
    if any(word in lowered for word in ("hello", "hi ", "hey")) or lowered.strip() in ("hi", "hey"):
        parts.append("Hello to you too! 👋")
    parts.append(
        "Things to try while a reply streams:\n\n"
        "- **Esc** stops the reply; what was written stays, marked *cancelled*.\n"
        "- **Up** in an empty prompt recalls what you sent before.\n"
        "- **Ctrl+P** opens the command palette: themes, prompt packs, copying.\n"
        "- **F1** lists every key."
    )
    sample = [word.strip("\"'`") for word in words[:5]] or ["hello"]
    parts.append(
        "Your words, as code:\n\n"
        "```python\n"
        f"words = {sample!r}\n"
        "longest = max(words, key=len)\n"
        "print(f\"{len(words)} words, the longest is {longest!r}\")\n"
        "```"
    )
    parts.append(
        "| measure | value |\n"
        "| --- | ---: |\n"
        f"| words | {len(words)} |\n"
        f"| characters | {len(prompt)} |\n"
        f"| lines | {lines} |\n"
        f"| provider | demo |"
    )
    return "\n\n".join(parts) + "\n"


def long_markdown(chunks: int) -> list[str]:
    """A long Markdown document cut into exactly `chunks` pieces: paragraphs, lists and code fences.

    Used by `reply_chunks` and by the rendering benchmark, so the app and its baseline are fed the
    same pieces.
    """
    section = 0
    tokens: list[str] = []
    while len(tokens) < chunks:
        section += 1
        text = (
            f"## Section {section}\n\n"
            f"This is paragraph {section} of a long streamed reply, with **bold**, *italic* and "
            f"`inline code` in it, long enough to wrap across the width of a terminal window.\n\n"
            f"- first point of section {section}\n- second point, a little longer than the first\n"
            f"- third point\n\n"
            f"```python\ndef section_{section}(x: int) -> int:\n    return x * {section}\n```\n\n"
        )
        tokens.extend(split_tokens(text))
    return tokens[:chunks]


_ASKS_TIME = re.compile(r"\bwhat(?:'s| is)? the time\b|\bwhat time is it\b|\b(?:current|local) time\b", re.IGNORECASE)
_ASKS_SUM = re.compile(r"\b(?:calculate|compute|evaluate|work out)\s+(?P<expression>[-+*/%^().\d\s]*\d[-+*/%^().\d\s]*)", re.IGNORECASE)
_ASKS_FILES = re.compile(r"\b(?:list|show)(?: me)? (?:the |all |my )?files\b|\bwhat files\b", re.IGNORECASE)

DEMO_TOOL_HINT = (
    "*This is the offline demo: with the tools offered, it calls them for \u201cwhat time is it\u201d, "
    "\u201ccalculate 17\\*23\u201d and \u201clist the files here\u201d.*"
)


def tool_call_for(request: ChatRequest) -> ToolCall | None:
    """The tool call the demo makes for the request's last message, if it is a user message asking
    for something an offered tool does."""
    if not request.messages or request.messages[-1].role is not Role.USER:
        return None
    offered = {tool.name for tool in request.tools}
    prompt = request.messages[-1].content
    call_id = f"demo-call-{len(request.messages)}"
    if "calculator" in offered and (match := _ASKS_SUM.search(prompt)):
        expression = " ".join(match.group("expression").split()).replace("^", "**")
        return ToolCall(call_id, "calculator", json.dumps({"expression": expression}))
    if "current_time" in offered and _ASKS_TIME.search(prompt):
        return ToolCall(call_id, "current_time", "{}")
    if "list_directory" in offered and _ASKS_FILES.search(prompt):
        return ToolCall(call_id, "list_directory", json.dumps({"path": "."}))
    return None


def _fenced(text: str) -> str:
    """`text` in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def compose_tool_answer(messages: tuple[Message, ...]) -> str:
    """The demo's Markdown answer from the tool results at the end of `messages`."""
    results: list[Message] = []
    for message in reversed(messages):
        if message.role is not Role.TOOL:
            break
        results.insert(0, message)
    calls = {call.id: call for m in messages if m.role is Role.ASSISTANT for call in m.tool_calls}
    parts: list[str] = []
    for result in results:
        call = calls.get(result.tool_call_id or "")
        name = result.name or (call.name if call else "tool")
        content = result.content.strip()
        if result.is_error:
            if content.startswith("denied"):
                parts.append(f"The `{name}` call was not run ({content}), so I cannot answer that part.")
            else:
                parts.append(f"The `{name}` tool failed, so I cannot answer that part:\n\n{_fenced(content)}")
        elif name == "calculator":
            try:
                expression = json.loads(call.arguments).get("expression", "") if call else ""
            except (ValueError, AttributeError):
                expression = ""
            shown = f"{expression} = {content}" if expression else content
            parts.append(f"The `calculator` tool says:\n\n{_fenced(shown)}\n\nSo the answer is **{content}**.")
        elif name == "current_time":
            parts.append(f"According to the `current_time` tool it is **{content}**.")
        elif name == "list_directory":
            parts.append(f"Here is what the `list_directory` tool found:\n\n{_fenced(content)}")
        else:
            parts.append(f"The `{name}` tool returned:\n\n{_fenced(content)}")
    parts.append(DEMO_TOOL_HINT)
    return "\n\n".join(parts) + "\n"


class DemoProvider:
    """Streams composed Markdown replies at a realistic pace, fully offline."""

    name = "demo"

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        settings = settings or ProviderSettings()
        options: dict[str, Any] = dict(settings.options)
        self.model = settings.model or default_model(self.name)
        self.catalog = settings.catalog or default_catalog()
        """The model catalog with the person's `[models."name"]` overrides (its context window, say)."""
        self.speed = float(options.get("speed", DEFAULT_SPEED))
        if self.speed < 0:
            raise ValueError("speed must be 0 (as fast as possible) or a number of tokens per second")
        self.first_token_delay = float(options.get("first_token_delay", 0.4 if self.speed else 0.0))
        self.fixed_reply: str | None = options.get("reply")
        self.reply_chunks: int | None = options.get("reply_chunks")
        self.fail_after_chunks: int | None = options.get("fail_after_chunks")
        self.hold_after_chunks: int | None = options.get("hold_after_chunks")

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.model, Capabilities(streaming=True, tools=True), description="offline demo")

    async def list_models(self) -> list[ModelInfo]:
        return [self.info()]

    async def aclose(self) -> None:
        return None

    def _reply_for(self, request: ChatRequest) -> list[str]:
        if self.fixed_reply is not None:
            return split_tokens(self.fixed_reply)
        if self.reply_chunks:
            return long_markdown(self.reply_chunks)
        if request.messages and request.messages[-1].role is Role.TOOL:
            return split_tokens(compose_tool_answer(request.messages))
        user_messages = [m for m in request.messages if m.role is Role.USER]
        prompt = user_messages[-1].content if user_messages else ""
        return split_tokens(compose_reply(prompt, len(user_messages)))

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        call = tool_call_for(request) if self.fixed_reply is None and not self.reply_chunks else None
        tokens = split_tokens(f"Let me use the `{call.name}` tool for that.\n") if call else self._reply_for(request)
        if self.first_token_delay:
            await asyncio.sleep(self.first_token_delay)
        interval = 1.0 / self.speed if self.speed else 0.0
        for index, token in enumerate(tokens):
            if self.fail_after_chunks is not None and index == self.fail_after_chunks:
                yield ErrorChunk(
                    "the demo provider failed on purpose",
                    hint="this is the demo's fail_after_chunks option; remove it to get whole replies",
                )
                return
            if index == self.hold_after_chunks:
                await asyncio.Event().wait()
            yield TextDelta(token)
            # Even at speed 0 the stream hands the loop back once per chunk, as a network stream would.
            await asyncio.sleep(interval)
        if call is not None:
            yield ToolCallChunk(call)
        prompt_tokens = sum(len(split_tokens(m.content)) for m in request.messages)
        yield UsageChunk(Usage(input_tokens=prompt_tokens, output_tokens=len(tokens)))
        yield Done(FinishReason.TOOL_CALLS if call is not None else FinishReason.STOP)
