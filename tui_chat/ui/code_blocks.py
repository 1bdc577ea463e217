"""Find the fenced code blocks in a Markdown reply, for copying them to the clipboard."""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """A fenced or indented code block: its language tag (may be empty) and its code."""

    language: str
    code: str


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every code block in `markdown`, in order."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    return [
        CodeBlock(token.info.strip().split(" ")[0] if token.info else "", token.content)
        for token in tokens
        if token.type in ("fence", "code_block")
    ]
