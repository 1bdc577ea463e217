"""Streaming Markdown for assistant replies, one idea per module.

- `blocks`: the pure rules of streamed Markdown (top-level blocks, which are final, signatures); no Textual.
- `pacing`: pending text and flush budgets, pure.
- `safe_table`: a Markdown table with plain-text tooltips.
- `segments`: runs of blocks that are parked off screen, and their layout.
- `reconcile`, `parking`, `catch_up`, `finishing`: the parts of `StreamingMarkdown` (mixins on
  `part.MarkdownPart`, sharing its state): updating the tail's blocks, parking far segments, catching up with a backlog, and
  the final check.
- `streaming`: `StreamingMarkdown`, the widget that ties them together (appending and flushing).

Import from the modules: this package imports nothing, so `blocks` loads without Textual.
"""
