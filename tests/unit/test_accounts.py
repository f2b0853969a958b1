"""Accounts of the admin: password hashes, roles, the login rate limit (pure), and the
`declics admin` commands (password from stdin, never argv)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from federation import cli
from federation.accounts import passwords, roles
from federation.accounts.ratelimit import LoginLimiter


def test_a_hash_verifies_its_password_only_and_is_salted() -> None:
    first = passwords.hash_password("un mot de passe long")
    second = passwords.hash_password("un mot de passe long")
    assert first != second
    assert first.startswith("scrypt$")
    assert passwords.verify("un mot de passe long", first)
    assert not passwords.verify("un mot de passe Long", first)
    assert not passwords.verify("x", "not a hash")
    assert not passwords.verify("x", "scrypt$1$2$3$!!$!!")


def test_short_passwords_are_refused() -> None:
    with pytest.raises(passwords.WeakPassword):
        passwords.check_strength("court")
    passwords.check_strength("assez long pour passer")


def test_roles() -> None:
    assert all(roles.may(roles.OWNER, area) for area in roles.areas(roles.OWNER))
    assert roles.may(roles.EDITOR, roles.PRACTICES)
    assert roles.may(roles.EDITOR, roles.COMMITMENTS)
    assert not roles.may(roles.EDITOR, roles.FOLLOWS)
    assert roles.may(roles.MODERATOR, roles.REPLIES)
    assert roles.may(roles.MODERATOR, roles.FOLLOWS)
    assert not roles.may(roles.MODERATOR, roles.PRACTICES)
    assert not roles.may("stranger", roles.REPLIES)


def test_limiter_blocks_an_account_after_its_failures_until_the_window_passes() -> None:
    limiter = LoginLimiter(per_account=3, per_address=10, window_seconds=60)
    keys = [("account", "camille"), ("address", "192.0.2.1")]
    for t in range(3):
        assert limiter.wait_seconds(keys, t) == 0
        limiter.failed(keys, t)
    assert limiter.wait_seconds(keys, 3) == pytest.approx(57)
    other = [("account", "dominique"), ("address", "192.0.2.1")]
    assert limiter.wait_seconds(other, 3) == 0  # the address is still under its limit
    assert limiter.wait_seconds(keys, 61) == 0


def test_limiter_counts_an_address_across_accounts() -> None:
    limiter = LoginLimiter(per_account=100, per_address=4, window_seconds=60)
    for n in range(4):
        limiter.failed([("account", f"user{n}"), ("address", "192.0.2.9")], 0)
    assert limiter.wait_seconds([("account", "new"), ("address", "192.0.2.9")], 1) > 0


def test_limiter_success_clears_the_account_not_the_address() -> None:
    limiter = LoginLimiter(per_account=2, per_address=2, window_seconds=60)
    keys = [("account", "c"), ("address", "a")]
    limiter.failed(keys, 0)
    limiter.succeeded(keys)
    assert ("account", "c") not in limiter._failures
    assert ("address", "a") in limiter._failures


def test_limiter_memory_is_bounded() -> None:
    limiter = LoginLimiter(max_keys=100)
    for n in range(10_000):
        limiter.failed([("address", f"198.51.100.{n}")], n / 1000)
    assert len(limiter) == 100


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("DECLICS_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "instance"
    argv = [
        "init",
        "--data-dir",
        str(data_dir),
        "--base-url",
        "https://coop.example",
        "--username",
        "collectif",
        "--name",
        "Le Collectif",
    ]
    assert cli.main(argv) == 0
    return data_dir


def admin(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = cli.main(["admin", *argv, "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    return code, out, err


def test_set_password_list_and_remove(
    instance: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = admin(
        capsys,
        monkeypatch,
        instance,
        "set-password",
        "Camille",
        "--password-stdin",
        stdin="un mot de passe solide\n",
    )
    assert code == 0
    assert "account camille (owner) created" in out
    assert "https://coop.example/admin" in out
    code, out, _ = admin(
        capsys,
        monkeypatch,
        instance,
        "set-password",
        "dominique",
        "--role",
        "moderator",
        stdin="un autre mot de passe\n",
    )
    assert code == 0
    code, out, _ = admin(capsys, monkeypatch, instance, "list")
    assert [line.split("\t")[:2] for line in out.splitlines()] == [
        ["camille", "owner"],
        ["dominique", "moderator"],
    ]
    code, out, _ = admin(
        capsys,
        monkeypatch,
        instance,
        "set-password",
        "camille",
        "--role",
        "editor",
        stdin="encore un autre mot\n",
    )
    assert "account camille (editor) updated" in out
    assert admin(capsys, monkeypatch, instance, "remove", "dominique")[0] == 0
    code, out, _ = admin(capsys, monkeypatch, instance, "list")
    assert "dominique" not in out


@pytest.mark.parametrize(
    ("argv", "stdin", "words"),
    [
        (("set-password", "camille"), "court\n", "at least 10 characters"),
        (("set-password", "camille"), "", "no password on standard input"),
        (("set-password", "Bad Login!"), "un mot de passe solide\n", "a login is"),
        (("remove", "personne"), "", "no account 'personne'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    instance: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
    stdin: str,
    words: str,
) -> None:
    code, _out, err = admin(capsys, monkeypatch, instance, *argv, stdin=stdin)
    assert code == 2
    assert err.startswith("declics: error: ")
    assert words in err


def test_the_password_is_never_an_argument() -> None:
    parser = cli.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["admin", "set-password", "camille", "--password", "secret"])
