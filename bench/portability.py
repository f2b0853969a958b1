"""Export and import of a member with many practices: time, archive size, memory.

    .venv/bin/python -m bench.portability [--practices 1000]

Runs `declics init` twice in a temporary directory (SQLite), publishes the practices
on the first instance with the real code, then times `declics export` and `declics
import` (the passphrase on stdin) and checks that every object arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from federation import cli
from federation.content import practices
from federation.runtime import build_runtime
from federation.settings import load_settings
from federation.store.models import LocalObject

PASSPHRASE = "bench passphrase, not secret"
BODY = "\n\n".join(f"Paragraphe {n} : une pratique partagée, avec *Markdown*." for n in range(20))


def init(root: Path, name: str, port: int) -> Path:
    data_dir = root / name
    base_url = f"http://127.0.0.1:{port}"
    code = cli.main(
        [
            *("init", "--data-dir", str(data_dir), "--base-url", base_url),
            *("--username", name, "--name", name, "--dev", "--port", str(port)),
        ]
    )
    assert code == 0
    return data_dir


async def publish(data_dir: Path, count: int) -> None:
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions.begin() as session:
            from federation.actors import local

            org = (await local.organisations(session))[0]
            for n in range(count):
                text = f"---\ntitle: Pratique {n}\nsummary: Résumé {n}\nthemes: [6]\n---\n{BODY}\n"
                draft = practices.parse_file(text, "CC-BY-SA-4.0")
                await practices.publish(session, org, draft, rt.clock.now(), "fr")
    finally:
        await rt.close()


async def count_objects(data_dir: Path) -> int:
    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions() as session:
            return int(
                (await session.execute(select(func.count()).select_from(LocalObject))).scalar_one()
            )
    finally:
        await rt.close()


def timed(args: list[str]) -> tuple[float, float]:
    """(seconds, the process's peak resident MiB so far) of one CLI command, the
    passphrase on stdin."""
    sys.stdin = io.StringIO(PASSPHRASE + "\n")
    start = time.perf_counter()
    code = cli.main(args)
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"{args[0]} failed")
    return elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--practices", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old = init(root, "ancien", 18081)
        new = init(root, "nouveau", 18082)
        start = time.perf_counter()
        asyncio.run(publish(old, args.practices))
        print(f"published {args.practices} practices in {time.perf_counter() - start:.1f} s")
        archive = root / "member.zip"
        seconds, peak = timed(["export", "--data-dir", str(old), str(archive)])
        size = archive.stat().st_size / 2**20
        print(f"export: {seconds:.2f} s, archive {size:.1f} MiB, peak RSS {peak:.0f} MiB")
        seconds, peak = timed(
            [
                "import",
                "--data-dir",
                str(new),
                "--base-url",
                "http://127.0.0.1:18082",
                "--username",
                "ancien",
                str(archive),
            ]
        )
        print(f"import: {seconds:.2f} s, peak RSS {peak:.0f} MiB")
        arrived = asyncio.run(count_objects(new))
        if arrived != args.practices:
            print(f"FAILED: {arrived} objects on the new host, {args.practices} expected")
            return 1
        print(f"all {arrived} objects restored")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
