"""Moving an instance's data between databases: migrate-to-postgres."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from federation.cli.base import Registrar, instance_dir, instance_settings, run
from federation.errors import CommandError
from federation.settings import CONFIG_NAME, Settings

if TYPE_CHECKING:
    from federation.store.transfer import Copied


def cmd_migrate_to_postgres(args: argparse.Namespace) -> int:
    from federation.store import transfer

    source = instance_settings(args)
    target = transfer.target_settings(source, args.postgres_url)
    transfer.prepare(source, target)
    copied = run_copy(source, target)
    config = instance_dir(args) / CONFIG_NAME
    text = config.read_text(encoding="utf-8")
    config.write_text(transfer.switch_config(text, target.database.url), encoding="utf-8")
    total = sum(c.rows for c in copied)
    print(f"copied {total} rows of {len(copied)} tables to PostgreSQL")
    for c in copied:
        if c.rows:
            print(f"  {c.table}\t{c.rows}")
    print(f"{config} now points to PostgreSQL; the SQLite file is left as it was")
    return 0


def run_copy(source: Settings, target: Settings) -> list[Copied]:
    from federation.store import transfer

    copied: list[Copied] = []

    async def body() -> int:
        copied.extend(await transfer.copy(source, target))
        return 0

    try:
        run(body())
    except OSError as err:
        raise CommandError(f"cannot reach PostgreSQL: {err}") from err
    return copied


def register(r: Registrar) -> None:
    cmd = r.add(
        "migrate-to-postgres",
        cmd_migrate_to_postgres,
        "copy this SQLite instance into an empty PostgreSQL database and switch to it "
        "(stop serve and workers first)",
    )
    cmd.add_argument(
        "postgres_url",
        metavar="POSTGRES_URL",
        help="postgresql://user:password@host/dbname (an empty database)",
    )
