"""The `declics` command line. Every command takes --data-dir (default $DECLICS_DATA_DIR
or ./data). Errors are one line on stderr; exit code 2 for usage or state errors,
1 for network failures. Each module of this package registers one family of commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from federation import __version__
from federation.cli import admin, graph, instance, library, publishing
from federation.cli.base import Registrar
from federation.errors import CommandError, FederationError
from federation.transport.client import FetchError

FAMILIES = (instance, graph, publishing, library, admin)


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
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        sys.stderr.close()
        return 0
