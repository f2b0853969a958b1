"""Practice and commitments files: every mistake is refused with a reason naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from federation.content import commitments, practices
from federation.errors import CommandError

CONFIG = Path(__file__).resolve().parents[2] / "config"
GOOD = "---\ntitle: T\nsummary: S\nthemes: [communs]\nlicence: CC-BY-4.0\n---\nCorps\n"


def test_examples_parse() -> None:
    draft = practices.parse_file(
        (CONFIG / "practice.example.md").read_text(encoding="utf-8"), "CC-BY-SA-4.0"
    )
    assert draft.themes == (4, 6, 7)
    assert draft.licence.spdx == "CC-BY-SA-4.0"
    stated = commitments.parse_file(
        (CONFIG / "commitments.example.toml").read_text(encoding="utf-8")
    )
    assert [s.number for s in stated.statements] == [5, 6]


def test_default_licence_applies_when_the_file_names_none() -> None:
    draft = practices.parse_file(GOOD.replace("licence: CC-BY-4.0\n", ""), "CC0-1.0")
    assert draft.licence.spdx == "CC0-1.0"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Corps sans en-tête", "front matter"),
        ("---\ntitle: T\nCorps", "not closed"),
        ("---\n: : :\n---\nx", "not valid YAML"),
        ("---\n- a\n---\nx", "mapping"),
        (GOOD.replace("title: T\n", ""), "missing title"),
        (GOOD.replace("[communs]", "[9]"), "unknown theme 9"),
        (GOOD.replace("[communs]", "[]"), "at least one theme"),
        (GOOD.replace("CC-BY-4.0", "WTFPL-9"), "unknown licence"),
        (GOOD.replace("summary: S\n", "summary: S\nauthor: x\n"), "unknown front matter"),
        (GOOD.replace("Corps\n", ""), "no body"),
        (GOOD.replace("summary: S\n", "summary: S\nlinks: [ftp://x]\n"), "links"),
    ],
)
def test_bad_practice_files(text: str, reason: str) -> None:
    with pytest.raises(CommandError, match=reason):
        practices.parse_file(text, "CC-BY-SA-4.0")


C_GOOD = (
    'signed_on = 2024-01-01\n[[commitments]]\nnumber = 1\nprogress = "achieved"\nstatement = "x"\n'
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("signed_on = [", "not valid TOML"),
        ('[[commitments]]\nnumber = 1\nprogress = "achieved"\nstatement = "x"\n', "signed_on"),
        (C_GOOD.replace("number = 1", "number = 8"), "commitment number"),
        (C_GOOD.replace('"achieved"', '"done"'), "progress must be one of"),
        (C_GOOD.replace('statement = "x"', 'statement = ""'), "statement"),
        (C_GOOD + C_GOOD.split("\n", 1)[1], "stated twice"),
        ('charter_version = "1999"\n' + C_GOOD, "unknown charter version"),
        (C_GOOD + 'evidence = ["ftp://x"]\n', "evidence must be http"),
        ("signed_on = 2024-01-01\n", "at least one commitment"),
        (C_GOOD + "colour = 1\n", "unknown key"),
    ],
)
def test_bad_commitment_files(text: str, reason: str) -> None:
    with pytest.raises(CommandError, match=reason):
        commitments.parse_file(text)
