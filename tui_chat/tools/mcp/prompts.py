"""The prompts an MCP server offers (`prompts/list`) and what one gives (`prompts/get`).

A server's prompt is a template with named arguments; getting it with values for them gives
messages from the user and the assistant. Those messages start the chat from where it stands:
they join the history and go to the model with the next message. Everything a server sends is
cleaned of terminal controls where it comes in; markup stays literal text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...chunks import Message, Role
from ...safe_text import clean
from .results import block_text


@dataclass(frozen=True, slots=True)
class PromptArgument:
    """One argument of a server's prompt: its name, what it is for, whether it must be given."""

    name: str
    description: str = ""
    required: bool = False


@dataclass(frozen=True, slots=True)
class RemotePrompt:
    """A prompt a server lists, cleaned: its own name, a title to show, and its arguments."""

    server: str
    name: str
    title: str
    description: str
    arguments: tuple[PromptArgument, ...] = ()

    @property
    def required(self) -> tuple[PromptArgument, ...]:
        """The arguments that must be given a value."""
        return tuple(argument for argument in self.arguments if argument.required)


def remote_prompt(server: str, prompt: Any) -> RemotePrompt:
    """The SDK's `Prompt` as a `RemotePrompt`."""
    return RemotePrompt(
        server=server,
        name=prompt.name,
        title=clean(prompt.title or prompt.name),
        description=clean(prompt.description or ""),
        arguments=tuple(
            PromptArgument(argument.name, clean(argument.description or ""), bool(argument.required))
            for argument in prompt.arguments or ()
        ),
    )


def prompt_messages(result: Any) -> tuple[Message, ...]:
    """A `GetPromptResult`'s messages as history messages (a non-text block becomes a notice)."""
    roles = {"user": Role.USER, "assistant": Role.ASSISTANT}
    return tuple(Message(roles[message.role], clean(block_text(message.content))) for message in result.messages)
