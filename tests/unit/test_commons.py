"""Tools, events, needs and offers without a network: files, documents compared with
Mobilizon's `Event` fixture, FEP-c893 terms, iCalendar, and the command line."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from federation import cli
from federation.content import events, ical, offers, tools
from federation.errors import CommandError
from federation.store.models import LocalActor
from federation.vocab.normalize import parse_activity, parse_object
from tests.e2e.test_commons import EVENT, TOOL
from tests.support.fixtures import fediverse_fixtures
from tests.unit.test_cli import init_args

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def actor() -> LocalActor:
    return LocalActor(base_url="https://coop.example", username="collectif", name="Le Collectif")


def event_document(text: str = EVENT) -> dict[str, Any]:
    uri = "https://coop.example/events/atelier"
    return events.document(
        actor(), uri, events.parse_file(text), published=NOW, updated=None, language="fr"
    )


def mobilizon_event() -> dict[str, Any]:
    path = fediverse_fixtures() / "create-event_mobilizon.json"
    if not path.is_file():
        pytest.skip(f"{path} not found (set DECLICS_FIXTURES_DIR to the shared/fixtures folder)")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def shape(value: object) -> object:
    """The JSON shape of a value: the keys of objects, the type of leaves."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def test_event_has_the_shape_of_mobilizon_events() -> None:
    ours, theirs = event_document(), mobilizon_event()["object"]
    # Every property Mobilizon's Event has (but its test-only ones), with the same shape.
    for key in ("type", "name", "startTime", "attributedTo", "content", "id", "url"):
        assert shape(ours[key]) == shape(theirs[key]), key
    expected = dict(shape(theirs["location"]))  # type: ignore[call-overload]
    expected["address"] = ours_address()
    assert shape(ours["location"]) == expected
    assert ours["location"]["address"]["type"] == "PostalAddress"
    assert set(ours["location"]["address"]) <= set(theirs["location"]["address"])
    assert shape(ours["attachment"]) in ([], shape(theirs["attachment"]))
    # The Mobilizon terms mean what Mobilizon's context says they mean.
    their_terms = theirs_context()
    our_terms = next(c for c in ours["@context"] if isinstance(c, dict) and "joinMode" in c)
    for term in ("joinMode", "maximumAttendeeCapacity", "mz", "uuid"):
        assert our_terms[term] == their_terms[term], term
    assert ours["joinMode"] == "free" and ours["maximumAttendeeCapacity"] == 20
    assert ours["timezone"] == "Europe/Paris" and ours["endTime"] == "2027-01-14T15:00:00Z"
    assert ours["anonymousParticipationEnabled"] is False
    # Our reader takes both the same way.
    for document in (ours, theirs):
        parsed = parse_object(document)
        assert parsed.type == "Event" and parsed.name and parsed.attributed_to
    assert parse_activity(mobilizon_event()).type == "Create"


def ours_address() -> object:
    return shape(event_document()["location"]["address"])


def theirs_context() -> dict[str, Any]:
    return next(c for c in mobilizon_event()["@context"] if isinstance(c, dict))


def test_example_files_are_valid() -> None:
    config = Path(__file__).resolve().parents[2] / "config"
    assert tools.parse_file((config / "tool.example.md").read_text(encoding="utf-8")).repository
    event = events.parse_file((config / "event.example.md").read_text(encoding="utf-8"))
    assert event.capacity == 20 and event.timezone == "Europe/Paris"


def test_online_event_has_a_link_place_and_a_website_attachment() -> None:
    text = EVENT.replace(
        "place:\n  name: Maison des coopératives\n  street: 10 rue Jangot\n"
        '  postal_code: "69007"\n  locality: Lyon\n  country: France\n',
        "online: https://visio.example/atelier\n",
    )
    document = event_document(text)
    assert document["location"] == {
        "type": "Place",
        "name": "En ligne",
        "id": "https://coop.example/events/atelier#place",
        "url": "https://visio.example/atelier",
    }
    assert document["isOnline"] is True
    assert document["attachment"][0]["name"] == "Website"  # where Mobilizon looks


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("timezone: Europe/Paris", "timezone: Mars/Olympus"), "unknown timezone"),
        (("end: 2027-01-14T16:00", "end: 2027-01-14T10:00"), "ends before it starts"),
        (("join_mode: free", "join_mode: anyone"), "join_mode must be"),
        (("capacity: 20", "capacity: -3"), "capacity must be"),
        (("start: 2027-01-14T14:00", "start: tomorrow"), "start must be a date"),
        (("themes: [7]", "themes: [12]"), "unknown theme"),
    ],
)
def test_bad_event_files_are_refused(change: tuple[str, str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        events.parse_file(EVENT.replace(*change))


def test_tool_carries_doap_terms_and_shows_on_mastodon() -> None:
    draft = tools.parse_file(TOOL)
    uri = "https://coop.example/tools/planning"
    document = tools.document(actor(), uri, draft, published=NOW, updated=None, language="fr")
    assert document["type"] == "Article" and document["name"] == "Planning de livraison"
    assert "code source" in document["summary"] and "AGPL-3.0-or-later" in document["summary"]
    assert document["doap:repository"]["doap:browse"] == "https://git.example/coop/planning"
    assert document["doap:homepage"] == "https://planning.example"
    assert document["doap:license"] == "https://spdx.org/licenses/AGPL-3.0-or-later.html"
    assert document["licence"]["spdx"] == "AGPL-3.0-or-later"
    doap = next(c for c in document["@context"] if isinstance(c, dict) and "doap" in c)
    assert doap["doap"] == "http://usefulinc.com/ns/doap#"
    with pytest.raises(CommandError, match="repository must be"):
        tools.parse_file(TOOL.replace("https://git.example/coop/planning", "ftp://x"))
    with pytest.raises(CommandError, match="SPDX id"):
        tools.parse_file(TOOL.replace("AGPL-3.0-or-later", "GPL v3 (or so)"))


def test_offers_need_one_theme_and_a_future_expiry() -> None:
    today = date(2026, 11, 28)
    draft = offers.make_draft("need", "Un partenaire", "", "7", "2026-12-31", today)
    assert draft.ends_at == datetime(2027, 1, 1, tzinfo=UTC)
    cases: list[tuple[tuple[str, str, str, object, str], str]] = [
        (("gift", "x", "", "7", "2026-12-31"), "kind must be"),
        (("need", "x", "", "9", "2026-12-31"), "unknown theme"),
        (("need", "x", "", ["6", "7"], "2026-12-31"), "exactly one theme"),
        (("need", "x", "", "7", "2026-11-27"), "already past"),
        (("need", "x", "", "7", "2028-01-01"), "within a year"),
        (("need", "x", "", "7", "31/12/2026"), "must be a date"),
    ]
    for (kind, title, text, theme, expires), message in cases:
        with pytest.raises(CommandError, match=message):
            offers.make_draft(kind, title, text, theme, expires, today)


def test_icalendar_escapes_and_folds() -> None:
    document = event_document()
    document["name"] = "Atelier; co-développement, " + "é" * 60
    text = ical.calendar("Réseau", [document, {"id": "x"}], NOW)
    lines = text.split("\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:Atelier\\; co-développement\\, " + "é" * 60 in unfolded
    assert unfolded.count("BEGIN:VEVENT") == 1  # no dates, no VEVENT
    assert "DTSTART:20270114T130000Z" in unfolded and "DTEND:20270114T150000Z" in unfolded
    assert "DTSTAMP:20261128T120000Z" in unfolded


def test_commons_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "instance"
    assert (
        cli.main(init_args(data_dir, "--dev", "--port", "8765", base_url="http://127.0.0.1:8765"))
        == 0
    )
    tool_file, event_file = tmp_path / "tool.md", tmp_path / "event.md"
    tool_file.write_text(TOOL, encoding="utf-8")
    event_file.write_text(EVENT, encoding="utf-8")
    d = ["--data-dir", str(data_dir)]
    capsys.readouterr()
    assert cli.main(["tool", "publish", *d, str(tool_file)]) == 0
    assert capsys.readouterr().out.strip().endswith("/tools/planning-de-livraison")
    assert cli.main(["event", "publish", *d, str(event_file)]) == 0
    assert cli.main(["event", "update", *d, "atelier-co-developpement", str(event_file)]) == 0
    assert "version 2" in capsys.readouterr().out
    assert cli.main(["event", "participants", *d, "atelier-co-developpement"]) == 0
    assert capsys.readouterr().out.strip() == "(none)"
    who = "https://x.example/users/alice"
    assert cli.main(["event", "refuse", *d, "atelier-co-developpement", who]) == 2
    assert "not waiting for approval" in capsys.readouterr().err
    args = ["--kind", "offer", "--title", "Notre planning", "--theme", "6", "--expires"]
    assert cli.main(["offer", "publish", *d, *args, "2099-01-01", "texte"]) == 2
    assert "within a year" in capsys.readouterr().err
    today = datetime.now(UTC).date().isoformat()
    assert cli.main(["offer", "publish", *d, *args, today, "texte"]) == 0
    assert "/offers/notre-planning" in capsys.readouterr().out
    assert cli.main(["offer", "list", *d, "--json"]) == 0
    assert [o["title"] for o in json.loads(capsys.readouterr().out)] == ["Notre planning"]
    assert cli.main(["offer", "list", *d, "--network"]) == 0
    assert "Notre planning" in capsys.readouterr().out
    assert cli.main(["tool", "list", *d, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["title"] for t in listed] == ["Planning de livraison"]
    assert cli.main(["tool", "use", *d, "https://elsewhere.example/tools/x"]) == 2
    assert "no tool of the library" in capsys.readouterr().err
    assert cli.main(["event", "join", *d, "https://elsewhere.example/events/x"]) == 2
    assert cli.main(["tool", "delete", *d, "planning-de-livraison"]) == 0
    assert cli.main(["tool", "delete", *d, "planning-de-livraison"]) == 2
    assert "already deleted" in capsys.readouterr().err
    bad = tmp_path / "bad.md"
    bad.write_text(EVENT.replace("timezone: Europe/Paris", "timezone: Nowhere"), encoding="utf-8")
    assert cli.main(["event", "publish", *d, str(bad)]) == 2
