"""The `declics` command line, run in-process: help, init refusals, instance commands.

No network: the base URL is a loopback address nobody listens on, and every command
used here stays in the local database.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pytest

from federation import cli
from federation.settings import CONFIG_NAME

pytestmark = pytest.mark.sqlite_only("checks the SQLite file `declics init` leaves in the data dir")
BASE_URL = "http://127.0.0.1:8765"
DB_NAME = "declics.sqlite3"
OTHER_URL = "http://127.0.0.2:9999"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_paths(
    parser: argparse.ArgumentParser | None = None, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """Every command and nested action, e.g. ("init",), ("practice", "list")."""
    paths: list[tuple[str, ...]] = []
    for name, sub in _subparsers(parser or cli.build_parser()).items():
        paths.append((*prefix, name))
        paths.extend(command_paths(sub, (*prefix, name)))
    return sorted(paths)


def subcommands() -> list[str]:
    return sorted(_subparsers(cli.build_parser()))


def is_leaf(path: tuple[str, ...]) -> bool:
    return not any(other[: len(path)] == path and other != path for other in command_paths())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("declics: error: ")
    return lines[0]


def listing(directory: Path) -> dict[str, int]:
    if not directory.exists():
        return {}
    return {p.name: p.stat().st_mtime_ns for p in sorted(directory.iterdir())}


def init_args(data_dir: Path, *extra: str, base_url: str = "https://coop.example") -> list[str]:
    return [
        "init",
        "--data-dir",
        str(data_dir),
        "--base-url",
        base_url,
        "--username",
        "collectif",
        "--name",
        "Le Collectif",
        *extra,
    ]


@pytest.fixture(autouse=True)
def no_declics_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("DECLICS_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One instance made by `declics init --dev`, shared by this module's tests."""
    data_dir = tmp_path_factory.mktemp("cli") / "instance"
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("DECLICS_"):
                mp.delenv(name)
        assert cli.main(init_args(data_dir, "--dev", "--port", "8765", base_url=BASE_URL)) == 0
    return data_dir


# --- help ----------------------------------------------------------------------------


def test_the_expected_commands_exist() -> None:
    assert set(subcommands()) >= {
        "init",
        "migrate",
        "serve",
        "worker",
        "follow",
        "unfollow",
        "following",
        "followers",
        "requests",
        "approve",
        "reject",
        "profile",
        "post",
        "deliveries",
        "practice",
        "commitments",
        "policy",
        "replies",
        "library",
        "share",
        "adopt",
        "relay",
    }


@pytest.mark.parametrize("path", command_paths(), ids=" ".join)
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], path: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main([*path, "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: declics {' '.join(path)}")
    if is_leaf(path):  # a command that does something works on an instance directory
        assert "--data-dir" in out


def test_top_level_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: declics")
    for command in subcommands():
        assert command in out
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.startswith("declics ")


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main([])
    assert caught.value.code == 2
    assert "usage: declics" in capsys.readouterr().err


# --- init refusals --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"--base-url": "http://127.0.0.1:8000"}, "https"),
        ({"--base-url": "http://coop.example"}, "https"),
        ({"--base-url": "https://coop.example/declics"}, "path"),
        ({"--base-url": "https://coop.example/?x=1"}, "path"),
        ({"--base-url": "ftp://coop.example"}, "https://coop.example"),
        ({"--base-url": "coop.example"}, "https://coop.example"),
        ({"--base-url": "https://user:pw@coop.example"}, "credentials"),
        ({"--username": "Bad Name"}, "username"),
        ({"--username": "a@b"}, "username"),
        ({"--username": "Collectif"}, "username"),
        ({"--username": ""}, "username"),
        ({"--name": ""}, "--name must not be empty"),
        ({"--name": "   "}, "--name must not be empty"),
    ],
    ids=lambda value: str(value),
)
def test_init_refuses_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: dict[str, str], words: str
) -> None:
    data_dir = tmp_path / "data"
    argv = init_args(data_dir)
    for option, value in change.items():
        argv[argv.index(option) + 1] = value
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert words in one_error_line(err)
    assert listing(data_dir) == {}


def test_init_on_an_existing_instance_refuses_what_belongs_to_the_install(
    capsys: pytest.CaptureFixture[str], instance: Path
) -> None:
    config = (instance / CONFIG_NAME).read_bytes()
    before = listing(instance)
    assert DB_NAME in before
    for argv, words in (
        (init_args(instance, "--dev", base_url=BASE_URL), "already exists"),
        (init_args(instance, base_url=BASE_URL), "already exists"),
        (init_args(instance, "--port", "9999", base_url=OTHER_URL), "only apply to a new one"),
        (
            init_args(instance, "--database-url", "postgresql+asyncpg://x/y", base_url=OTHER_URL),
            "only apply to a new one",
        ),
        (init_args(instance, "--username", "Bad Name", base_url=OTHER_URL), "username"),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2
        assert out == ""
        line = one_error_line(err)
        assert words in line
        assert (instance / CONFIG_NAME).read_bytes() == config
        assert listing(instance) == before


def test_init_refuses_dev_mode_on_an_install_without_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "prod"
    assert run(capsys, *init_args(data_dir))[0] == 0
    config = (data_dir / CONFIG_NAME).read_bytes()
    for argv, words in (
        (init_args(data_dir, "--dev", base_url="https://autre.example"), "development mode"),
        (init_args(data_dir, base_url="http://autre.example"), "https"),
    ):
        argv[argv.index("--username") + 1] = "autre"
        code, out, err = run(capsys, *argv)
        assert (code, out) == (2, "")
        assert words in one_error_line(err)
        assert (data_dir / CONFIG_NAME).read_bytes() == config


def test_init_adds_an_organisation_to_an_existing_instance(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data_dir = tmp_path / "hosting"
    assert run(capsys, *init_args(data_dir))[0] == 0
    config = (data_dir / CONFIG_NAME).read_bytes()
    argv = init_args(data_dir, base_url="https://autre.example")
    argv[argv.index("--name") + 1] = "L'Autre"
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"Added collectif@autre.example to {data_dir}"
    assert (data_dir / CONFIG_NAME).read_bytes() == config

    # Two organisations: a command must now say which one it acts as.
    code, out, err = run(capsys, "followers", "--data-dir", str(data_dir))
    assert (code, out) == (2, "")
    assert "--actor" in one_error_line(err)
    for handle in ("collectif@coop.example", "collectif@autre.example"):
        code, out, err = run(capsys, "profile", "--data-dir", str(data_dir), "--actor", handle)
        assert (code, err) == (0, "")
        assert json.loads(out)["id"] == f"https://{handle.split('@')[1]}/users/collectif"


# --- an instance ------------------------------------------------------------------------


def test_init_creates_config_and_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "fresh"
    code, out, err = run(capsys, *init_args(data_dir, "--dev", "--port", "8765", base_url=BASE_URL))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"Created collectif@127.0.0.1:8765 in {data_dir}"
    assert (data_dir / CONFIG_NAME).is_file()
    assert (data_dir / DB_NAME).is_file()
    config = (data_dir / CONFIG_NAME).read_text(encoding="utf-8")
    assert "dev = true" in config
    assert "port = 8765" in config
    code, out, err = run(capsys, "migrate", "--data-dir", str(data_dir))
    assert (code, out.strip(), err) == (0, "database is up to date", "")


def test_empty_instance_lists(capsys: pytest.CaptureFixture[str], instance: Path) -> None:
    for command in ("followers", "following", "requests"):
        code, out, err = run(capsys, command, "--data-dir", str(instance), "--json")
        assert (code, err) == (0, "")
        assert json.loads(out) == []
        code, out, err = run(capsys, command, "--data-dir", str(instance))
        assert (code, out, err) == (0, "(none)\n", "")
    code, out, err = run(capsys, "deliveries", "--data-dir", str(instance), "--json")
    assert (code, err, json.loads(out)) == (0, "", [])


def test_post_without_followers_queues_nothing(
    capsys: pytest.CaptureFixture[str], instance: Path
) -> None:
    code, out, err = run(capsys, "deliveries", "--data-dir", str(instance))
    assert (code, out, err) == (0, "(no deliveries)\n", "")

    code, out, err = run(capsys, "post", "--data-dir", str(instance), "Bonjour")
    assert (code, err) == (0, "")
    (url,) = out.splitlines()
    assert url.startswith(f"{BASE_URL}/")
    assert url != f"{BASE_URL}/"

    code, out, err = run(capsys, "deliveries", "--data-dir", str(instance))
    assert (code, out, err) == (0, "(no deliveries)\n", "")
    code, out, err = run(capsys, "deliveries", "--data-dir", str(instance), "--retry")
    assert (code, out, err) == (0, "0 deliveries queued again\n", "")

    code, out, err = run(capsys, "post", "--data-dir", str(instance), "   ")
    assert code == 2
    assert out == ""
    assert "the note is empty" in one_error_line(err)


def test_profile_shows_and_changes_the_actor(
    capsys: pytest.CaptureFixture[str], instance: Path
) -> None:
    code, out, err = run(
        capsys,
        "profile",
        "--data-dir",
        str(instance),
        "--name",
        "X",
        "--field",
        "Site=https://x.example",
    )
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["id"] == f"{BASE_URL}/users/collectif"
    assert doc["name"] == "X"
    # The install's licence comes first, then the organisation's own fields.
    assert doc["attachment"] == [
        {"type": "PropertyValue", "name": "Licence des contenus partagés", "value": "CC BY-SA 4.0"},
        {"type": "PropertyValue", "name": "Site", "value": "https://x.example"},
    ]

    # The change is stored; showing the profile changes nothing.
    code, out, err = run(capsys, "profile", "--data-dir", str(instance))
    assert (code, err) == (0, "")
    assert json.loads(out) == doc

    code, out, err = run(capsys, "profile", "--data-dir", str(instance), "--field", "no-equals")
    assert code == 2
    assert "--field takes NAME=VALUE" in one_error_line(err)
    code, out, err = run(capsys, "profile", "--data-dir", str(instance), "--name", " ")
    assert code == 2
    assert "name must not be empty" in one_error_line(err)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["followers", "--actor", "nobody"], "no organisation 'nobody' here"),
        (["unfollow", "@alice@b.example"], "is not known here"),
        (["approve", "https://b.example/users/alice"], "is not known here"),
        (["follow", "not a handle"], "neither @user@host nor an actor URL"),
    ],
)
def test_instance_commands_refuse_unknown_targets(
    capsys: pytest.CaptureFixture[str], instance: Path, argv: list[str], words: str
) -> None:
    code, out, err = run(capsys, argv[0], "--data-dir", str(instance), *argv[1:])
    assert code == 2
    assert out == ""
    assert words in one_error_line(err)


# --- no instance -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["migrate"],
        ["serve"],
        ["worker"],
        ["follow", "@alice@b.example"],
        ["unfollow", "@alice@b.example"],
        ["following"],
        ["followers", "--json"],
        ["requests"],
        ["approve", "@alice@b.example"],
        ["reject", "@alice@b.example"],
        ["profile", "--name", "X"],
        ["post", "Bonjour"],
        ["deliveries"],
    ],
)
def test_commands_without_an_instance_say_to_run_init(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    code, out, err = run(capsys, argv[0], "--data-dir", str(tmp_path), *argv[1:])
    assert code == 2
    assert out == ""
    assert "declics init" in one_error_line(err)
    assert listing(tmp_path) == {}
