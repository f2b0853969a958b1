"""library full-text search: FTS5 on SQLite, a tsvector index on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept in step with federation.content.search.
PG_DOCUMENT = (
    "to_tsvector('french', coalesce(title, '') || ' ' || coalesce(summary, '') || ' ' "
    "|| coalesce(content_html, '') || ' ' || coalesce(source, ''))"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_library_items_fts ON library_items USING gin ({PG_DOCUMENT})")
        return
    # An external-content FTS5 index over library_items, kept in step by triggers.
    op.execute(
        "CREATE VIRTUAL TABLE library_fts USING fts5("
        "title, summary, content_html, source, content='library_items', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    columns = "title, summary, content_html, source"
    op.execute(
        "CREATE TRIGGER library_fts_insert AFTER INSERT ON library_items BEGIN "
        f"INSERT INTO library_fts(rowid, {columns}) "
        "VALUES (new.id, new.title, new.summary, new.content_html, new.source); END"
    )
    op.execute(
        "CREATE TRIGGER library_fts_delete AFTER DELETE ON library_items BEGIN "
        f"INSERT INTO library_fts(library_fts, rowid, {columns}) "
        "VALUES ('delete', old.id, old.title, old.summary, old.content_html, old.source); END"
    )
    op.execute(
        "CREATE TRIGGER library_fts_update AFTER UPDATE ON library_items BEGIN "
        f"INSERT INTO library_fts(library_fts, rowid, {columns}) "
        "VALUES ('delete', old.id, old.title, old.summary, old.content_html, old.source); "
        f"INSERT INTO library_fts(rowid, {columns}) "
        "VALUES (new.id, new.title, new.summary, new.content_html, new.source); END"
    )
    op.execute("INSERT INTO library_fts(library_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_library_items_fts")
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS library_fts_{trigger}")
    op.execute("DROP TABLE IF EXISTS library_fts")
