"""The conversation store: saved chats in SQLite, written off the event loop, searchable, exportable.

Kept empty so that importing a part (the `history` command's parser in `cli`) costs nothing more:

- `history`: `open_store()` and `Store`, the API a chat front end uses (writes queued, reads async);
- `records`: the values the store gives back (`ChatInfo`, `ChatRecord`, `MessageRecord`, ...);
- `exchange`: the JSON export (described by `export_format`), import, and the Markdown export;
- `database`, `schema`, `writer`, `reads`: opening the file, migrations, the writer thread, queries;
- `cli`: `tui-chat history list|show|search|export|import|delete`.
"""
