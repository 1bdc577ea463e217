"""`tui-chat history`: list, show, search, export, import and delete saved chats.

Only `argparse` is imported here at module level: the main parser is built on every start, and
the store itself is loaded when a history command runs. Ids may be shortened to any unique
prefix (the list shows the first 8 characters).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .history import Store
    from .resume import ReadingStore


def add_history_command(commands: Any, write_private: Callable[[Path, str], None]) -> None:
    """Add `history` and its actions to the main parser's subcommands. `write_private(path, text)`
    writes an export file atomically and readable by its owner alone (the config's own writer: the
    store sits below the config, so it is handed down rather than imported)."""
    history = commands.add_parser("history", help="saved chats: list, show, search, export, import, delete")
    history.add_argument(
        "--db", type=Path, metavar="FILE", default=None, help="chat database (default: in the user data folder)"
    )
    actions = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="chats, most recent first")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument("--limit", type=_positive, metavar="N", help="at most N chats")
    listing.set_defaults(run=_list)

    show = actions.add_parser("show", help="one chat, as a document")
    show.add_argument("id", metavar="ID")
    show.add_argument("--json", action="store_true", help="print the JSON export")
    show.set_defaults(run=_show)

    search = actions.add_parser("search", help="messages holding every word, with the matching lines")
    search.add_argument("text", metavar="TEXT")
    search.add_argument("--json", action="store_true", help="print JSON")
    search.add_argument("--limit", type=_positive, default=50, metavar="N", help="at most N messages (50)")
    search.set_defaults(run=_search)

    export = actions.add_parser("export", help="write a chat as Markdown or JSON")
    export.add_argument("id", metavar="ID")
    export.add_argument("--format", choices=("md", "json"), required=True)
    export.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    export.set_defaults(run=_export, write_private=write_private)

    imported = actions.add_parser("import", help="read a chat from a JSON export")
    imported.add_argument("file", type=Path, metavar="FILE.json")
    imported.set_defaults(run=_import)

    delete = actions.add_parser("delete", help="delete a chat")
    delete.add_argument("id", metavar="ID")
    delete.set_defaults(run=_delete)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def _open(args: argparse.Namespace) -> ReadingStore:
    """The store a reading command works on, opened read-only (a read-only folder is no obstacle,
    and no file is created); a file that cannot be read is an error here (nothing to show)."""
    from .resume import reading_store

    store = reading_store(args.db)
    _tell(store.notice)
    return store


def _open_to_write(args: argparse.Namespace, doing: str) -> Store:
    """The store a writing command changes; a file that cannot be written is an error saying that
    nothing was `doing` (deleted, imported)."""
    from ..errors import TuiChatError
    from .history import open_store

    store = open_store(args.db)
    if not store.saved:
        store.close()
        raise TuiChatError(f"cannot {doing}: {store.notice or 'the chat database cannot be used'}")
    _tell(store.notice)
    return store


def _tell(notice: str | None) -> None:
    """Say the store's notice (a file moved aside, a read-only file) once on stderr."""
    if notice:
        print(f"tui-chat: {notice}", file=sys.stderr)


def _chat_id(store: Store | ReadingStore, given: str) -> str:
    from .reads import resolve_chat_id

    return store.run(resolve_chat_id, given).result()


def _list(args: argparse.Namespace) -> int:
    from .reads import list_chats

    store = _open(args)
    try:
        chats = store.run(list_chats, args.limit).result()
    finally:
        store.close()
    if args.json:
        print(json.dumps([_info_json(chat) for chat in chats], ensure_ascii=False, indent=2))
        return 0
    for chat in chats:
        model = " / ".join(part for part in (chat.provider, chat.model) if part) or "-"
        when = chat.updated_at[:16].replace("T", " ")
        print(f"{chat.id[:8]}  {when}  {chat.message_count:>4} msgs  {model}  {chat.title or '(untitled)'}")
    return 0


def _info_json(chat: Any) -> dict[str, Any]:
    return {
        "id": chat.id,
        "title": chat.title,
        "created_at": chat.created_at,
        "updated_at": chat.updated_at,
        "provider": chat.provider,
        "model": chat.model,
        "pack": chat.pack,
        "messages": chat.message_count,
    }


def _show(args: argparse.Namespace) -> int:
    from .exchange import chat_to_markdown, export_chat
    from .reads import load_chat

    store = _open(args)
    try:
        chat_id = _chat_id(store, args.id)
        if args.json:
            print(json.dumps(store.run(export_chat, chat_id).result(), ensure_ascii=False, indent=2))
        else:
            print(chat_to_markdown(store.run(load_chat, chat_id).result()), end="")
    finally:
        store.close()
    return 0


def _search(args: argparse.Namespace) -> int:
    from .reads import search

    store = _open(args)
    try:
        hits = store.run(search, args.text, args.limit).result()
    finally:
        store.close()
    if args.json:
        print(json.dumps(
            [{"chat_id": h.chat_id, "chat_title": h.chat_title, "message_id": h.message_id, "role": h.role.value,
              "created_at": h.created_at, "lines": list(h.lines)} for h in hits],
            ensure_ascii=False, indent=2,
        ))  # fmt: skip
        return 0
    for hit in hits:
        print(f"{hit.chat_id[:8]}  {hit.created_at[:16].replace('T', ' ')}  {hit.chat_title or '(untitled)'}"
              f"  [{hit.role.value}]")  # fmt: skip
        for line in hit.lines:
            print(f"    {line}")
    if not hits:
        print(f"no messages hold {args.text!r}", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    from .exchange import chat_to_markdown, export_chat
    from .reads import load_chat

    store = _open(args)
    try:
        chat_id = _chat_id(store, args.id)
        if args.format == "json":
            text = json.dumps(store.run(export_chat, chat_id).result(), ensure_ascii=False, indent=2) + "\n"
        else:
            text = chat_to_markdown(store.run(load_chat, chat_id).result())
    finally:
        store.close()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.write_private(args.output, text)  # private (0600), and whole or not at all: it holds a chat
    return 0


def _import(args: argparse.Namespace) -> int:
    from ..errors import TuiChatError
    from .exchange import chat_from_json, import_chat

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TuiChatError(f"cannot read {args.file}: {getattr(error, 'strerror', None) or error}") from None
    record, blobs = chat_from_json(text, str(args.file))
    store = _open_to_write(args, "import it")
    try:
        chat_id = store.run(import_chat, record, blobs, str(args.file)).result()
    finally:
        store.close()
    print(f"imported {chat_id[:8]}  {record.info.title or '(untitled)'}  ({len(record.messages)} messages)")
    return 0


def _delete(args: argparse.Namespace) -> int:
    store = _open_to_write(args, "delete the chat")
    try:
        chat_id = _chat_id(store, args.id)
        store.delete_chat(chat_id)
    finally:
        store.close()
    print(f"deleted {chat_id[:8]}")
    return 0
