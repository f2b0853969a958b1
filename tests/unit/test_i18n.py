"""Pages speak French by default and English on request; the catalogue is complete."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from federation.web import i18n
from federation.web.templates import TEMPLATE_DIR

ADMIN_DIR = TEMPLATE_DIR.with_name("admin")


def template_messages() -> set[str]:
    """The words of the templates, and the admin's form errors (marked `N_` in Python,
    translated by the templates)."""
    found: set[str] = set()
    extracted = [
        *extract_from_dir(
            str(TEMPLATE_DIR),
            method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        ),
        *extract_from_dir(str(ADMIN_DIR), method_map=[("**.py", "python")], keywords={"N_": None}),
    ]
    for _file, _line, message, _comments, _context in extracted:
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_every_template_message_has_an_english_translation() -> None:
    messages = template_messages()
    assert len(messages) > 40
    missing = sorted(m for m in messages if m not in i18n.english())
    assert missing == []


def test_catalogue_has_no_stale_entries() -> None:
    stale = sorted(set(i18n.english()) - template_messages())
    assert stale == []


def test_placeholders_survive_translation() -> None:
    for msgid, text in i18n.english().items():
        for placeholder in ("%(date)s", "%(name)s", "%(number)s", "%(num)s", "%(status)s"):
            assert (placeholder in msgid) == (placeholder in text), msgid


def test_accept_language_prefers_french_unless_english_ranks_higher() -> None:
    pick = i18n._accept_language
    assert pick("") is None
    assert pick("fr-FR,fr;q=0.9,en;q=0.8") == "fr"
    assert pick("en-GB,en;q=0.9") == "en"
    assert pick("en;q=0.5,fr;q=0.9") == "fr"
    assert pick("de,en;q=0.7") == "en"
    assert pick("de") is None
    assert pick("en;q=bad,fr") == "fr"


def test_catalogue_file_is_packaged_beside_the_module() -> None:
    assert i18n.CATALOGUE.is_file()
    assert Path(i18n.CATALOGUE).suffix == ".po"
