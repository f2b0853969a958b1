"""The pure parts of portability: sealing, the archive container, id rebasing."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from federation.portability import archive, sealing
from federation.portability.archive import ArchiveError
from federation.portability.rewrite import Rebase

AAD = b"declics-archive/1 keys of https://old.example/users/collectif"


def test_sealed_keys_open_with_the_passphrase_only_and_for_their_actor() -> None:
    sealed = sealing.seal(b"secret keys", "une longue phrase", AAD)
    assert json.dumps(sealed)  # plain JSON, readable by other tools
    assert sealed["kdf"]["name"] == "scrypt" and sealed["cipher"] == "AES-256-GCM"
    assert sealing.unseal(sealed, "une longue phrase", AAD) == b"secret keys"
    with pytest.raises(sealing.SealError, match="wrong passphrase"):
        sealing.unseal(sealed, "une autre phrase", AAD)
    with pytest.raises(sealing.SealError, match="wrong passphrase"):
        sealing.unseal(sealed, "une longue phrase", AAD + b"x")
    with pytest.raises(sealing.SealError, match="at least 8"):
        sealing.seal(b"x", "court", AAD)
    with pytest.raises(sealing.SealError, match="out of range"):
        sealing.unseal({**sealed, "kdf": {**sealed["kdf"], "n": 2**40}}, "x" * 8, AAD)


def test_archive_round_trip_and_refusals() -> None:
    entries = {"actor.json": archive.dumps({"id": "x"}), "declics/a.json": b"[]\n"}
    data = archive.write(entries, {"actor": "x"})
    assert archive.write(entries, {"actor": "x"}) == data  # canonical: same bytes
    opened = archive.read(data)
    assert opened.entries == entries and opened.manifest["actor"] == "x"
    assert opened.json("actor.json") == {"id": "x"}
    for position in range(0, len(data), 7):
        changed = bytearray(data)
        changed[position] ^= 0x20
        with pytest.raises(ArchiveError):
            archive.read(bytes(changed))
    with pytest.raises(ArchiveError, match="not a readable archive"):
        archive.read(b"not a zip")
    # An extra entry the manifest does not list
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as extra:
        extra.writestr("evil.json", b"{}")
    with pytest.raises(ArchiveError, match="unlisted"):
        archive.read(buffer.getvalue())


def test_rebase_moves_the_members_ids_only() -> None:
    rebase = Rebase.of(
        "https://old.example",
        "https://new.example",
        "collectif",
        "collectif",
        ["https://old.example/practices/compta", "https://old.example/commitments"],
    )
    assert (
        rebase.url("https://old.example/users/collectif") == "https://new.example/users/collectif"
    )
    assert rebase.url("https://old.example/users/collectif#main-key") == (
        "https://new.example/users/collectif#main-key"
    )
    assert rebase.url("https://old.example/users/collectif/followers") == (
        "https://new.example/users/collectif/followers"
    )
    assert rebase.url("https://old.example/@collectif") == "https://new.example/@collectif"
    assert (
        rebase.url("https://old.example/practices/compta") == "https://new.example/practices/compta"
    )
    assert rebase.url("https://old.example/commitments/versions/2") == (
        "https://new.example/commitments/versions/2"
    )
    assert (
        rebase.url("https://old.example/tags/Engagement6") == "https://new.example/tags/Engagement6"
    )
    # Not the member's: another organisation of the old host, another host, a longer port
    assert rebase.url("https://old.example/users/voisin") == "https://old.example/users/voisin"
    assert (
        rebase.url("https://old.example/practices/autre") == "https://old.example/practices/autre"
    )
    assert rebase.url("https://old.example:8443/practices/compta") == (
        "https://old.example:8443/practices/compta"
    )
    assert rebase.url("https://old.example.org/practices/compta") == (
        "https://old.example.org/practices/compta"
    )
    html = '<a href="https://old.example/practices/compta">voir</a> et https://ailleurs.example/x.'
    assert rebase.deep({"content": html, "n": 1, "l": [html]}) == {
        "content": html.replace("old.example", "new.example", 1),
        "n": 1,
        "l": [html.replace("old.example", "new.example", 1)],
    }
