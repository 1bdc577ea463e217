"""Where the bundled prompt packs and themes are.

In a source checkout or an editable install they are the `packs/` and `themes/` folders at the
top of the repository; a wheel installs them under `<prefix>/share/tui-chat/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parent.parent


def bundled_dir(kind: str) -> Path:
    """The folder of bundled `kind` ("packs" or "themes"); it may not exist in a broken install."""
    in_repo = _REPO_ROOT / kind
    if in_repo.is_dir():
        return in_repo
    return Path(sys.prefix) / "share" / "tui-chat" / kind
