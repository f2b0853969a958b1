"""Hostile input files given to the command line: practice Markdown, commitments and
data policy TOML, and the configuration file. Each gives exit code 2 and one line
on stderr saying why, and nothing stored is changed. Rows C-1 … of THREAT_MODEL.md.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from federation import cli
from federation.runtime import build_runtime
from federation.settings import CONFIG_NAME, load_settings
from federation.store import models
from tests.support.instance import init_instance
from tests.support.snapshot import WATCHED

PRACTICE = """---
title: Mutualiser la comptabilité
summary: Trois coopératives partagent une comptable.
themes: [4, communs]
licence: CC-BY-SA-4.0
links:
  - https://coop.example/comptabilite
---
# Pourquoi

Partager les coûts.
"""
LAUGHS = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
       for i in range(8)]
)  # fmt: skip
PYTHON_TAG = "title: !!python/object/apply:os.system [id]\nx: M"
COMMITMENTS = """charter_version = "2023-09-14"
signed_on = 2023-09-14

[[commitments]]
number = 5
progress = "in-progress"
statement = "Nos données sont hébergées en France."
"""
POLICY = """summary = "Nous collectons le moins possible."
storage_country = "France"
host = "Coopérative d'hébergement"
retention = "Trois ans."
terms_url = "https://coop.example/conditions"

[[data]]
what = "adresse e-mail"
why = "se connecter"
"""


@dataclass(frozen=True)
class File:
    name: str
    command: tuple[str, ...]  # the file's path is appended
    content: bytes | str | None  # None: the path is given as is (see `path`)
    reason: str
    path: str = ""


def practice(old: str, new: str) -> str:
    assert old in PRACTICE
    return PRACTICE.replace(old, new, 1)


P = ("practice", "publish")
CM = ("commitments", "publish")
PO = ("policy", "publish")
FILES = [
    File("missing file", P, None, "no such file", "does-not-exist.md"),
    File("a directory", P, None, "not a regular file", "."),
    File("a device (/dev/zero)", P, None, "not a regular file", "/dev/zero"),
    File("over 1 MiB", P, PRACTICE + "x" * (1024 * 1024), "larger than"),
    File("not UTF-8", P, b"---\ntitle: \xff\xfe\n---\nbody\n", "cannot read"),
    File("empty", P, "", "must start with a front matter"),
    File("no front matter", P, "# Just a title\n", "must start with a front matter"),
    File("front matter not closed", P, "---\ntitle: x\n", "not closed"),
    File("invalid YAML", P, practice("title: M", "title: [M"), "not valid YAML"),
    File("YAML python tag", P, practice("title: M", PYTHON_TAG),
         "not valid YAML"),
    File("YAML list instead of mapping", P, "---\n- a\n- b\n---\nbody\n", "mapping"),
    File("YAML alias bomb", P, practice("links:", LAUGHS + "\nlinks:"), "unknown front matter"),
    File("unknown key", P, practice("licence:", "owner: root\nlicence:"), "unknown front matter"),
    File("missing title", P, practice("title: Mutualiser la comptabilité\n", ""), "missing title"),
    File("theme 99", P, practice("[4, communs]", "[99]"), "99"),
    File("no theme", P, practice("themes: [4, communs]\n", ""), "at least one theme"),
    File("unknown licence", P, practice("CC-BY-SA-4.0", "WTFPL-9"), "unknown licence"),
    File("javascript link", P, practice("https://coop.example/comptabilite", "javascript:alert(1)"),
         "links must be"),
    File("no body", P, PRACTICE.split("---\n# Pourquoi")[0] + "---\n", "no body text"),
    File("commitments not TOML", CM, "charter_version = \n", "TOML"),
    File("commitment number 9", CM, COMMITMENTS.replace("number = 5", "number = 9"), "9"),
    File("commitment progress bogus", CM, COMMITMENTS.replace("in-progress", "done-ish"),
         "progress"),
    File("commitments unknown charter", CM, COMMITMENTS.replace("2023-09-14\"", "1999-01-01\""),
         "1999-01-01"),
    File("commitments evidence javascript", CM,
         COMMITMENTS + 'evidence = ["javascript:alert(1)"]\n', "evidence"),
    File("policy not TOML", PO, "summary = [\n", "TOML"),
    File("policy without storage country", PO, POLICY.replace('storage_country = "France"\n', ""),
         "storage_country is required"),
    File("policy terms javascript", PO, POLICY.replace("https://coop.example/conditions",
                                                       "javascript:alert(1)"), "terms_url"),
]  # fmt: skip


@dataclass(frozen=True)
class Config:
    name: str
    section: str  # the line goes in this section ("" : before every section)
    line: str  # replaces the line setting the same key, if there is one
    reason: str


CONFIGS = [
    Config("unknown section", "", "[nowhere]\nx = 1", "unknown section"),
    Config("unknown key", "fetch", "follow_everything = true", "unknown key"),
    Config("number is text", "database", 'busy_timeout_ms = "soon"', "busy_timeout_ms"),
    Config("negative timeout", "fetch", "timeout_seconds = -1.0", "timeout_seconds"),
    Config("NaN timeout", "fetch", "timeout_seconds = nan", "timeout_seconds"),
    Config("infinite rate", "inbox", "per_actor_per_second = inf", "per_actor_per_second"),
    Config("zero body size", "inbox", "max_body_bytes = 0", "max_body_bytes"),
    Config("not TOML", "", "[inbox", "not valid TOML"),
    Config("switch is text", "server", 'dev = "maybe"', "must be a bool"),
    Config("domains not a list", "trust", "allowed_domains = 3", "list of texts"),
]


def edited(config: str, section: str, line: str) -> str:
    """The configuration with `line` set in `section` (a duplicate key would not parse)."""
    lines = config.splitlines()
    if not section:
        return line + "\n" + config
    start = lines.index(f"[{section}]")
    key = line.split("=")[0].strip()
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    for i in range(start + 1, end):
        if lines[i].split("=")[0].strip() == key:
            lines[i] = line
            break
    else:
        lines.insert(start + 1, line)
    return "\n".join(lines) + "\n"


async def counts(data_dir: Path) -> dict[str, int]:
    from sqlalchemy import func, select

    rt = build_runtime(load_settings(data_dir))
    try:
        async with rt.sessions() as session:
            found = {}
            for model in (*WATCHED, models.ObjectVersion, models.LocalActor):
                result = await session.execute(select(func.count()).select_from(model))
                found[model.__tablename__] = int(result.scalar() or 0)
            return found
    finally:
        await rt.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, _base = init_instance(tmp_path_factory.mktemp("files"), "collectif")
    return path


def run(data_dir: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main([*args, "--data-dir", str(data_dir)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", FILES, ids=[f.name for f in FILES])
def test_hostile_file_refused_in_one_line(
    case: File, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = asyncio.run(counts(data_dir))
    if case.content is None:
        path = (
            case.path
            if case.path.startswith("/") or case.path == "."
            else str(tmp_path / case.path)
        )
    else:
        target = tmp_path / "input"
        if isinstance(case.content, bytes):
            target.write_bytes(case.content)
        else:
            target.write_text(case.content, encoding="utf-8")
        path = str(target)
    code, err = run(data_dir, *case.command, path, capsys=capsys)
    assert code == 2, err
    assert err.startswith("declics: error: ") and err.count("\n") == 1, err
    assert case.reason in err, err
    assert asyncio.run(counts(data_dir)) == before


def test_the_valid_files_are_taken(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table's files differ from these by one hostile change each."""
    for command, text in ((P, PRACTICE), (CM, COMMITMENTS), (PO, POLICY)):
        target = tmp_path / f"{command[0]}.txt"
        target.write_text(text, encoding="utf-8")
        code, err = run(data_dir, *command, str(target), capsys=capsys)
        assert code == 0, err


@pytest.mark.parametrize("case", CONFIGS, ids=[c.name for c in CONFIGS])
def test_hostile_configuration_refused_in_one_line(
    case: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, _base = init_instance(tmp_path, "collectif")
    before = asyncio.run(counts(data_dir))
    config = data_dir / CONFIG_NAME
    original = config.read_text(encoding="utf-8")
    config.write_text(edited(original, case.section, case.line), encoding="utf-8")
    code, err = run(data_dir, "practice", "list", capsys=capsys)
    assert code == 2, err
    assert err.startswith("declics: error: configuration") and err.count("\n") == 1, err
    assert case.reason in err, err
    config.write_text(original, encoding="utf-8")
    assert asyncio.run(counts(data_dir)) == before
