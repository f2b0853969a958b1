"""THREAT_MODEL.md stays in step with the tests and the defaults it quotes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from federation.settings import Settings
from tests.e2e import (
    test_hostile_admin,
    test_hostile_fetches,
    test_hostile_files,
    test_hostile_inbox,
    test_hostile_web,
    test_inbox_refusals,
)

REPO = Path(__file__).resolve().parents[2]
TEXT = (REPO / "THREAT_MODEL.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| ([ICFW])-(\d+) \|.*`(e2e|unit)/(test_\w+\.py)::(\w+)(?:\[(.*)\])?` \|$")


def rows() -> list[tuple[str, int, str, str, str | None]]:
    found = []
    for line in TEXT.splitlines():
        match = ROW.match(line)
        if match:
            surface, number, folder, module, function, param = match.groups()
            found.append((surface, int(number), f"{folder}/{module}", function, param))
    return found


def test_at_least_80_numbered_rows_each_naming_an_existing_test() -> None:
    table = rows()
    assert len(table) >= 80
    for surface in "ICFW":
        numbers = [n for s, n, *_ in table if s == surface]
        assert numbers == list(range(1, len(numbers) + 1)), surface
    for _s, _n, path, function, _param in table:
        source = (REPO / "tests" / path).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {function}\(", source, re.M), (path, function)


def test_every_case_of_the_tables_has_its_row() -> None:
    documented = {(function, param) for *_, function, param in rows()}
    expected = {
        ("test_refused_with_reason_and_nothing_stored", c.name) for c in test_inbox_refusals.CASES
    }
    expected |= {
        ("test_hostile_post_answered_and_nothing_changed", c.name) for c in test_hostile_inbox.CASES
    }
    expected |= {
        ("test_url_refused_before_any_connection", url)
        for url, _ in test_hostile_fetches.REFUSED_URLS
    }
    expected |= {
        ("test_hostile_server_fetch_fails_clearly_and_stores_nothing", f"{kind}{path}")
        for kind, path, _ in test_hostile_fetches.SERVER_CASES
    }
    expected |= {
        ("test_hostile_query_answered_and_nothing_changed", q.name)
        for q in test_hostile_web.QUERIES
    }
    expected |= {
        ("test_hostile_file_refused_in_one_line", f.name) for f in test_hostile_files.FILES
    }
    expected |= {
        ("test_hostile_configuration_refused_in_one_line", c.name)
        for c in test_hostile_files.CONFIGS
    }
    expected |= {
        ("test_hostile_admin_form_answered_and_nothing_changed", f.name)
        for f in test_hostile_admin.FORMS
    }
    assert expected - documented == set()


def test_quoted_defaults_are_the_code_defaults() -> None:
    block = TEXT.split("```toml\n", 1)[1].split("```", 1)[0]
    quoted = tomllib.loads(block)
    defaults = Settings(data_dir=REPO)
    for section, values in quoted.items():
        for key, value in values.items():
            assert getattr(getattr(defaults, section), key) == value, (section, key)
