"""The `declics` command line. Every command takes --data-dir (default $DECLICS_DATA_DIR
or ./data). Errors are one line on stderr; exit code 2 for usage or state errors,
1 for network failures. Each module of this package registers one family of commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from federation import __version__
from federation.cli import (
    admin,
    commons,
    database,
    graph,
    instance,
    library,
    portability,
    publishing,
)
from federation.cli.base import Registrar
from federation.errors import CommandError, FederationError
from federation.store import failures
from federation.transport.client import FetchError

FAMILIES = (instance, graph, publishing, library, admin, commons, portability, database)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="declics",
        description="Déclics: the federated server of a member platform.",
    )
    parser.add_argument("--version", action="version", version=f"declics {__version__}")
    registrar = Registrar(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    for family in FAMILIES:
        family.register(registrar)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except CommandError as err:
        print(f"declics: error: {err.reason}", file=sys.stderr)
        return 2
    except FetchError as err:
        print(f"declics: error: {err.reason}", file=sys.stderr)
        return 1
    except FederationError as err:
        print(f"declics: error: {err.reason}", file=sys.stderr)
        return 1
    except DBAPIError as err:
        # Locked, unreachable or out of disk: the transaction was not committed.
        data_dir = getattr(args, "data_dir", None)
        where = Path(data_dir) if data_dir else None
        print(f"declics: error: {failures.describe(err, where)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        sys.stderr.close()
        return 0
