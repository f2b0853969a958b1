"""Settings: one frozen tree, read once from `<data-dir>/declics.toml` and `DECLICS_*` env.

`load_settings()` is the only reader of configuration. The file is written by
`declics init` from `settings_template.toml`, which documents every key; a missing key
takes its default here, so an old file keeps working after an upgrade.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from federation.errors import CommandError

CONFIG_NAME = "declics.toml"
TEMPLATE = Path(__file__).with_name("settings_template.toml")


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    # Development mode: http peers and loopback/private addresses are allowed.
    dev: bool = False
    # Reverse proxies whose X-Forwarded-For names the client (for per-address limits).
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")

    def __post_init__(self) -> None:
        from federation.web.clients import networks

        try:
            networks(self.trusted_proxies)
        except ValueError as err:
            raise CommandError(f"configuration: [server] trusted_proxies: {err}") from err


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""  # empty: SQLite file in the data directory
    busy_timeout_ms: int = 5000


@dataclass(frozen=True)
class SignatureSettings:
    clock_skew_seconds: int = 3600
    accept_rfc9421: bool = True
    key_cache_seconds: int = 86400


@dataclass(frozen=True)
class InboxSettings:
    max_body_bytes: int = 1024 * 1024
    max_json_depth: int = 64
    # Object keys and array items in all, characters in one text, addressees of an
    # activity and its object (to, cc, bto, bcc, audience).
    max_json_keys: int = 5000
    max_string_chars: int = 262144
    max_recipients: int = 1000
    # Requests per second (and burst) from one client address, before the signature
    # is checked; then from one remote host and one actor, after it is verified.
    per_address_per_second: float = 50.0
    per_address_burst: int = 500
    per_host_per_second: float = 25.0
    per_host_burst: int = 500
    per_actor_per_second: float = 10.0
    per_actor_burst: int = 200
    # Senders remembered by each rate limit (least recently seen are forgotten).
    rate_limit_entries: int = 10000
    # Requests inside intake at once, and activities waiting for the inbox worker,
    # beyond which the inbox answers 503 with Retry-After.
    max_concurrent: int = 64
    max_backlog: int = 20000


@dataclass(frozen=True)
class DeliverySettings:
    concurrency: int = 32
    per_host_concurrency: int = 4
    timeout_seconds: float = 20.0
    max_age_hours: float = 72.0
    park_after_hours: float = 72.0
    lease_seconds: int = 120
    batch_size: int = 64
    poll_interval_seconds: float = 1.0
    # A host failing this many deliveries in a row is skipped for breaker_seconds:
    # its deliveries wait without an attempt, so one bad host delays no other.
    breaker_failures: int = 5
    breaker_seconds: float = 60.0


@dataclass(frozen=True)
class FetchSettings:
    timeout_seconds: float = 10.0
    max_bytes: int = 1024 * 1024
    max_redirects: int = 3


@dataclass(frozen=True)
class ContentSettings:
    # SPDX id of the licence a practice gets when its file names none.
    default_licence: str = "CC-BY-SA-4.0"
    # Language of what the organisation writes (BCP 47 tag).
    language: str = "fr"
    # Shortest notice (days) before a data-policy change takes effect.
    policy_notice_days: int = 30


@dataclass(frozen=True)
class TrustSettings:
    # Only members of the network (and allowed domains) may follow us or send us
    # activities; other fediverse accounts may still follow if non_member_followers.
    members_only: bool = False
    allowed_domains: tuple[str, ...] = ()
    non_member_followers: bool = True
    # Follow back the members that follow us, so that a newcomer joins the network
    # by following one member.
    follow_back_members: bool = True
    # Hold follows from members we do not know yet until the operator approves them
    # (and follow back only then).
    approve_member_follows: bool = False


@dataclass(frozen=True)
class DirectorySettings:
    # How far the crawl goes from our organisations, in follows (1: our contacts).
    depth: int = 3
    # The directory holds at most this many members; the crawl stops adding beyond it.
    max_members: int = 5000
    # A crawl round starts this long after the previous one began.
    refresh_hours: float = 6.0
    # A member not seen for this long is shown as stale, then dropped.
    stale_after_days: float = 7.0
    drop_after_days: float = 30.0
    # Requests per second to one host, at most (a token bucket per host).
    per_host_requests_per_second: float = 2.0
    # Actors fetched at the same time (each host still gets its own pace).
    concurrency: int = 16


@dataclass(frozen=True)
class ObservabilitySettings:
    # "text" for people, "json" for one JSON object per line (a log collector).
    log_format: str = "text"
    # Bearer token that /metrics requires; empty: /metrics is off (404).
    metrics_token: str = ""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    server: ServerSettings = field(default_factory=ServerSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    signatures: SignatureSettings = field(default_factory=SignatureSettings)
    inbox: InboxSettings = field(default_factory=InboxSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    content: ContentSettings = field(default_factory=ContentSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    directory: DirectorySettings = field(default_factory=DirectorySettings)
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)
    # Cooperative hosting: `[organisations."user@domain".content]` overrides `[content]`
    # for one organisation of the install (by handle, lower case).
    organisations: Mapping[str, ContentSettings] = field(default_factory=dict)

    def content_for(self, handle: str) -> ContentSettings:
        """The content settings of one organisation (its own, else the install's)."""
        return self.organisations.get(handle.lower(), self.content)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{self.data_dir / 'declics.sqlite3'}"


_SECTIONS: dict[str, type[Any]] = {
    "server": ServerSettings,
    "database": DatabaseSettings,
    "signatures": SignatureSettings,
    "inbox": InboxSettings,
    "delivery": DeliverySettings,
    "fetch": FetchSettings,
    "content": ContentSettings,
    "trust": TrustSettings,
    "directory": DirectorySettings,
    "observability": ObservabilitySettings,
}


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("DECLICS_DATA_DIR", "./data"))


# Keys for which 0 means something (no wait, no notice); for all others 0 would stall.
ZERO_ALLOWED = frozenset({"busy_timeout_ms", "policy_notice_days", "max_redirects"})


def _coerce(section: str, key: str, value: Any, expected: Any) -> Any:
    kind = type(expected)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.lower() in {"0", "false", "no", "off"}:
            return False
    elif kind is int and not isinstance(value, bool | float):
        try:
            number = int(value)
        except (TypeError, ValueError):
            pass
        else:
            if number >= (0 if key in ZERO_ALLOWED else 1):
                return number
    elif kind is float and not isinstance(value, bool):
        try:
            real = float(value)
        except (TypeError, ValueError):
            pass
        else:
            # Zero or infinite sizes and delays would stall or crash the workers.
            if 0 < real < float("inf"):
                return real
    elif kind is str and isinstance(value, str):
        return value
    elif kind is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, list | tuple) and all(isinstance(i, str) for i in items):
            return tuple(i.strip().lower() for i in items if i.strip())
        raise CommandError(f"configuration: [{section}] {key} must be a list of texts")
    if kind in (int, float):
        least = "0 or more" if key in ZERO_ALLOWED else "more than 0"
        raise CommandError(
            f"configuration: [{section}] {key} must be a {kind.__name__}, {least}, got {value!r}"
        )
    elif kind is str and isinstance(value, str):
        return value
    raise CommandError(f"configuration: [{section}] {key} must be a {kind.__name__}, got {value!r}")


def _build_section(name: str, raw: Mapping[str, Any], env: Mapping[str, str]) -> Any:
    cls = _SECTIONS[name]
    defaults = cls()
    values: dict[str, Any] = {}
    known = {f.name for f in fields(cls)}
    for key in raw:
        if key not in known:
            raise CommandError(f"configuration: unknown key [{name}] {key}")
    for key in known:
        value = raw.get(key, getattr(defaults, key))
        env_value = env.get(f"DECLICS_{name.upper()}__{key.upper()}")
        if env_value is not None:
            value = env_value
        values[key] = _coerce(name, key, value, getattr(defaults, key))
    return replace(defaults, **values)


def load_settings(data_dir: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read `<data_dir>/declics.toml` and overlay `DECLICS_<SECTION>__<KEY>` env vars."""
    env = os.environ if environ is None else environ
    path = data_dir / CONFIG_NAME
    if not path.is_file():
        raise CommandError(
            f"no Déclics instance in {data_dir} (missing {CONFIG_NAME}); run 'declics init' first"
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise CommandError(f"configuration: {path.name} is not valid TOML: {err}") from err
    organisations = raw.pop("organisations", {})
    for section in raw:
        if section not in _SECTIONS:
            raise CommandError(f"configuration: unknown section [{section}]")
        if not isinstance(raw[section], dict):
            raise CommandError(f"configuration: [{section}] must be a table")
    built = {name: _build_section(name, raw.get(name, {}), env) for name in _SECTIONS}
    own = _organisations(organisations, built["content"])
    return Settings(data_dir=data_dir.resolve(), organisations=own, **built)


# What one organisation of a shared install may set for itself.
PER_ORGANISATION = frozenset({"content"})


def _organisations(raw: Any, content: ContentSettings) -> dict[str, ContentSettings]:
    if not isinstance(raw, dict):
        raise CommandError("configuration: [organisations] must be a table")
    own: dict[str, ContentSettings] = {}
    for handle, sections in raw.items():
        where = f'[organisations."{handle}"]'
        if "@" not in handle or not isinstance(sections, dict):
            raise CommandError(f"configuration: {where} must be a table named user@domain")
        for section, values in sections.items():
            if section not in PER_ORGANISATION or not isinstance(values, dict):
                raise CommandError(
                    f"configuration: {where} may only hold a [content] table, not {section!r}"
                )
        values = sections.get("content", {})
        known = {f.name for f in fields(ContentSettings)}
        for key in values:
            if key not in known:
                raise CommandError(f"configuration: unknown key {where} content.{key}")
        changed = {
            key: _coerce("content", key, value, getattr(content, key))
            for key, value in values.items()
        }
        own[handle.lower()] = replace(content, **changed)
    return own


def render_config(
    *, dev: bool, host: str = "127.0.0.1", port: int = 8000, database_url: str = ""
) -> str:
    """The documented configuration file that `declics init` writes."""
    text = TEMPLATE.read_text(encoding="utf-8")
    return (
        text.replace("dev = false", f"dev = {'true' if dev else 'false'}", 1)
        .replace('host = "127.0.0.1"', f'host = "{host}"', 1)
        .replace("port = 8000", f"port = {port}", 1)
        .replace('url = ""', f"url = {toml_string(database_url)}", 1)
    )


def toml_string(value: str) -> str:
    # A JSON string is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)
