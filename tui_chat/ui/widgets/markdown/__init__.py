"""Streaming Markdown for assistant replies, one idea per module.

- `blocks`: the pure rules of streamed Markdown (top-level blocks, which are final, signatures); no Textual.
- `pacing`: pending text and flush budgets, pure.
- `safe_table`: a Markdown table with plain-text tooltips.
- `segments`: runs of blocks that are parked off screen, and their layout.
- `streaming`: `StreamingMarkdown`, the widget that ties them together.

Import from the modules: this package imports nothing, so `blocks` loads without Textual.
"""
