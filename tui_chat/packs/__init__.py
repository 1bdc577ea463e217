"""Prompt packs: load a PromptPack file, check it, and render one of its prompts.

The package, one idea per module: `model` the pack and its prompts, and rendering one; `loading`
reading a file (size cap, strict JSON); `checking` the pack's rule tables and cross-checks; `template` the
`{{variable}}` engine; `finder` finding a pack by path or id, and `--var`; `json_values` strict JSON
reading and short forms.
"""

from .finder import PACK_SUFFIX, bundled_pack_paths, find_pack, parse_var_assignments
from .loading import MAX_PACK_BYTES, load_pack, validate_pack
from .model import DEFAULT_PACK_ID, Pack, PackPrompt, RenderedPrompt, Variable

__all__ = [
    "DEFAULT_PACK_ID",
    "MAX_PACK_BYTES",
    "PACK_SUFFIX",
    "Pack",
    "PackPrompt",
    "RenderedPrompt",
    "Variable",
    "bundled_pack_paths",
    "find_pack",
    "load_pack",
    "parse_var_assignments",
    "validate_pack",
]
