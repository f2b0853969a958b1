"""Run the Alembic migrations shipped in the package (`declics init`, `declics migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from federation.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings) -> None:
    """Bring the schema to the newest revision (blocking; call from a thread or the CLI)."""
    command.upgrade(alembic_config(settings.database_url), "head")
