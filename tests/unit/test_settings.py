"""Settings: the documented template, defaults, environment overrides and refusals."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from federation import settings as settings_module
from federation.errors import CommandError
from federation.settings import (
    CONFIG_NAME,
    DatabaseSettings,
    DeliverySettings,
    ServerSettings,
    Settings,
    default_data_dir,
    load_settings,
    render_config,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "declics.example.toml"


def write(data_dir: Path, text: str) -> Path:
    path = data_dir / CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path


def refusal(data_dir: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(CommandError) as caught:
        load_settings(data_dir, environ={} if environ is None else environ)
    message = caught.value.reason
    assert "\n" not in message.strip()
    return message


def section_fields() -> dict[str, dict[str, Any]]:
    """Every section of Settings with its keys and default values."""
    defaults = Settings(data_dir=Path("."))

    def as_toml(value: Any) -> Any:
        # TOML has arrays where the settings hold tuples.
        return list(value) if isinstance(value, tuple) else value

    return {
        f.name: {
            key: as_toml(value)
            for key, value in dataclasses.asdict(getattr(defaults, f.name)).items()
        }
        for f in dataclasses.fields(Settings)
        # organisations: per-organisation overrides, none by default (not in the template).
        if f.name not in ("data_dir", "organisations")
    }


# --- the template ------------------------------------------------------------------


def test_example_config_is_the_template() -> None:
    assert EXAMPLE.read_bytes() == settings_module.TEMPLATE.read_bytes()


def test_template_documents_every_key_with_its_default() -> None:
    raw = tomllib.loads(settings_module.TEMPLATE.read_text(encoding="utf-8"))
    assert raw == section_fields()


def test_template_loads_to_the_defaults(tmp_path: Path) -> None:
    write(tmp_path, settings_module.TEMPLATE.read_text(encoding="utf-8"))
    assert load_settings(tmp_path, environ={}) == Settings(data_dir=tmp_path.resolve())


# --- loading ---------------------------------------------------------------------------


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    write(tmp_path, "")
    loaded = load_settings(tmp_path, environ={})
    assert loaded == Settings(data_dir=tmp_path.resolve())
    assert loaded.server == ServerSettings(host="127.0.0.1", port=8000, dev=False)
    assert loaded.delivery.concurrency == 32
    assert loaded.delivery.max_age_hours == 72.0
    assert loaded.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'declics.sqlite3'}"


def test_partial_file_keeps_other_defaults(tmp_path: Path) -> None:
    write(tmp_path, '[server]\nport = 8443\n\n[database]\nurl = "postgresql+asyncpg://db/x"\n')
    loaded = load_settings(tmp_path, environ={})
    assert loaded.server == ServerSettings(port=8443)
    assert loaded.database == DatabaseSettings(url="postgresql+asyncpg://db/x")
    assert loaded.database_url == "postgresql+asyncpg://db/x"
    assert loaded.delivery == DeliverySettings()


def test_environment_overrides_file(tmp_path: Path) -> None:
    write(tmp_path, "[delivery]\nconcurrency = 3\n")
    environ = {
        "DECLICS_DELIVERY__CONCURRENCY": "7",
        "DECLICS_SERVER__DEV": "yes",
        "DECLICS_DELIVERY__TIMEOUT_SECONDS": "2.5",
        "DECLICS_FETCH__MAX_REDIRECTS": "0",
        "UNRELATED": "1",
    }
    loaded = load_settings(tmp_path, environ=environ)
    assert loaded.delivery.concurrency == 7
    assert loaded.delivery.timeout_seconds == 2.5
    assert loaded.server.dev is True
    assert loaded.fetch.max_redirects == 0
    assert load_settings(tmp_path, environ={}).delivery.concurrency == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("On", True), ("1", True), ("false", False), ("no", False), ("0", False)],
)
def test_environment_booleans(tmp_path: Path, text: str, expected: bool) -> None:
    write(tmp_path, "")
    assert load_settings(tmp_path, environ={"DECLICS_SERVER__DEV": text}).server.dev is expected


def test_default_data_dir() -> None:
    assert default_data_dir({}) == Path("./data")
    assert default_data_dir({"DECLICS_DATA_DIR": "/srv/declics"}) == Path("/srv/declics")


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[delivery]\nconcurrency = -1\n", ["[delivery] concurrency", "int", "-1"]),
        ("[delivery]\ntimeout_seconds = -0.5\n", ["[delivery] timeout_seconds", "float"]),
        ('[server]\nport = "eighty"\n', ["[server] port", "int", "'eighty'"]),
        ("[server]\nport = true\n", ["[server] port", "int", "True"]),
        ('[server]\ndev = "maybe"\n', ["[server] dev", "bool", "'maybe'"]),
        ("[server]\ndev = 1\n", ["[server] dev", "bool"]),
        ("[server]\nhost = 127\n", ["[server] host", "str", "127"]),
        ("[delivery]\nmax_age_hours = nan\n", ["[delivery] max_age_hours", "float"]),
        ("[fetch]\nmax_bytes = [1]\n", ["[fetch] max_bytes", "int"]),
        ("[server]\nprot = 80\n", ["unknown key", "[server] prot"]),
        ("[sever]\nport = 80\n", ["unknown section", "[sever]"]),
        ("server = 1\n", ["[server] must be a table"]),
        ("[server\nport = 80\n", ["not valid TOML", CONFIG_NAME]),
        ("[server]\nport = 80\nport = 81\n", ["not valid TOML"]),
    ],
)
def test_bad_values_are_refused(tmp_path: Path, text: str, words: list[str]) -> None:
    write(tmp_path, text)
    message = refusal(tmp_path)
    assert message.startswith("configuration: ")
    for word in words:
        assert word in message


def test_bad_environment_value_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "")
    message = refusal(tmp_path, {"DECLICS_DELIVERY__CONCURRENCY": "lots"})
    assert message == (
        "configuration: [delivery] concurrency must be a int, more than 0, got 'lots'"
    )
    assert "[delivery] concurrency" in refusal(tmp_path, {"DECLICS_DELIVERY__CONCURRENCY": "-3"})


def test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_bytes(b'[server]\nhost = "\xff"\n')
    assert "not valid TOML" in refusal(tmp_path)


def test_missing_file_says_to_run_init(tmp_path: Path) -> None:
    message = refusal(tmp_path)
    assert str(tmp_path) in message
    assert CONFIG_NAME in message
    assert "declics init" in message
    assert refusal(tmp_path / "nowhere").endswith("run 'declics init' first")


def test_a_directory_named_like_the_config_is_not_a_config(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).mkdir()
    assert "declics init" in refusal(tmp_path)


# --- render_config ------------------------------------------------------------------------


def test_render_config_round_trips(tmp_path: Path) -> None:
    text = render_config(dev=True, port=9000)
    write(tmp_path, text)
    loaded = load_settings(tmp_path, environ={})
    assert loaded.server == ServerSettings(host="127.0.0.1", port=9000, dev=True)
    assert dataclasses.replace(loaded, server=ServerSettings()) == Settings(
        data_dir=tmp_path.resolve()
    )
    # Only the three server lines differ from the documented template.
    template = settings_module.TEMPLATE.read_text(encoding="utf-8").splitlines()
    changed = [
        (old, new) for old, new in zip(template, text.splitlines(), strict=True) if old != new
    ]
    assert changed == [("port = 8000", "port = 9000"), ("dev = false", "dev = true")]


def test_render_config_production(tmp_path: Path) -> None:
    write(tmp_path, render_config(dev=False, host="0.0.0.0", port=8080))
    server = load_settings(tmp_path, environ={}).server
    assert server == ServerSettings(host="0.0.0.0", port=8080, dev=False)


def test_float_for_an_int_key_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "[delivery]\nconcurrency = 2.9\n")
    assert "[delivery] concurrency" in refusal(tmp_path)


def test_lists_from_file_and_environment(tmp_path: Path) -> None:
    write(tmp_path, '[trust]\nallowed_domains = ["Coop.Example", "b.example"]\n')
    assert load_settings(tmp_path, {}).trust.allowed_domains == ("coop.example", "b.example")
    env = {"DECLICS_TRUST__ALLOWED_DOMAINS": "x.example, y.example"}
    assert load_settings(tmp_path, env).trust.allowed_domains == ("x.example", "y.example")
    write(tmp_path, "[trust]\nallowed_domains = [1]\n")
    assert "list of texts" in refusal(tmp_path)


# --- cooperative hosting: content settings per organisation ---------------------------


def test_an_organisation_overrides_the_install_content_settings(tmp_path: Path) -> None:
    write(
        tmp_path,
        '[content]\nlanguage = "fr"\npolicy_notice_days = 15\n\n'
        '[organisations."Beta@Autre.example".content]\n'
        'language = "br"\ndefault_licence = "CC0-1.0"\n',
    )
    loaded = load_settings(tmp_path, environ={})
    beta = loaded.content_for("beta@autre.example")
    assert (beta.language, beta.default_licence, beta.policy_notice_days) == ("br", "CC0-1.0", 15)
    # Everyone else keeps the install's.
    assert loaded.content_for("alpha@coop.example") == loaded.content
    assert loaded.content.language == "fr"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[organisations]\nx = 1\n", "must be a table named user@domain"),
        ('[organisations."nohandle".content]\nlanguage = "br"\n', "user@domain"),
        ('[organisations."a@b".trust]\nmembers_only = true\n', "may only hold a [content]"),
        ('[organisations."a@b".content]\nlangage = "br"\n', "unknown key"),
        ('[organisations."a@b".content]\npolicy_notice_days = -1\n', "policy_notice_days"),
    ],
)
def test_bad_organisation_settings_are_refused(tmp_path: Path, text: str, words: str) -> None:
    write(tmp_path, text)
    with pytest.raises(CommandError) as caught:
        load_settings(tmp_path, environ={})
    assert words in caught.value.reason
