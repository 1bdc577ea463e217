"""`MarkdownPart`: the base of the parts `StreamingMarkdown` is made of (`reconcile`, `parking`, ...).

Each part is a mixin whose methods use the widget's state. To the type checker a part is a
`Markdown`, so that those methods are checked against the widget they run on; at run time it
is a plain class, and `StreamingMarkdown` adds `Markdown` once, last, to its bases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["MarkdownPart"]

if TYPE_CHECKING:
    from textual.widgets import Markdown

    MarkdownPart = Markdown
else:
    MarkdownPart = object
