"""`python -m tui_chat` runs the same command as `tui-chat`."""

from .cli import main

raise SystemExit(main())
