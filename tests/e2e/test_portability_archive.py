"""Export and import: an archive restores everything the member owns on another
host, and an archive that does not verify is refused with nothing stored."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from federation import cli
from federation.actors import local, trust
from federation.outbox import objects as object_use_cases
from federation.store.models import LocalActor, LocalObject, ObjectVersion
from tests.conftest import InstanceFactory
from tests.e2e.test_practices import practice_file, publish, publish_commitments
from tests.support.instance import Instance

PASSPHRASE = "correct horse battery staple"


async def declics(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    stdin: str = PASSPHRASE + "\n",
) -> tuple[int, str, str]:
    """Run the CLI as an operator would, the passphrase on standard input."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = await asyncio.to_thread(cli.main, args)
    out, err = capsys.readouterr()
    return code, out, err


async def export(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    instance: Instance,
    target: Path,
) -> bytes:
    code, _out, err = await declics(
        monkeypatch, capsys, ["export", "--data-dir", str(instance.data_dir), str(target)]
    )
    assert code == 0, err
    return target.read_bytes()


async def import_into(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    instance: Instance,
    archive: Path,
    stdin: str = PASSPHRASE + "\n",
) -> tuple[int, str, str]:
    return await declics(
        monkeypatch,
        capsys,
        [
            "import",
            "--data-dir",
            str(instance.data_dir),
            "--base-url",
            instance.base_url,
            str(archive),
        ],
        stdin,
    )


async def counts(instance: Instance) -> tuple[int, int]:
    async with instance.rt.sessions() as session:
        actors = (await session.execute(select(func.count()).select_from(LocalActor))).scalar_one()
        objects = (
            await session.execute(select(func.count()).select_from(LocalObject))
        ).scalar_one()
    return actors, objects


async def test_changed_byte_or_wrong_passphrase_is_refused_and_nothing_is_stored(
    instances: InstanceFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = await instances("collectif", start=False)
    b = await instances("atelier", start=False)
    await publish(a, practice_file("Mutualiser la comptabilité"))
    data = await export(monkeypatch, capsys, a, tmp_path / "a.zip")
    before = await counts(b)

    # One changed byte anywhere (container headers, an entry, the manifest, the end)
    for position in (0, 40, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        changed = bytearray(data)
        changed[position] ^= 0x01
        bad = tmp_path / f"changed-{position}.zip"
        bad.write_bytes(bytes(changed))
        code, _out, err = await import_into(monkeypatch, capsys, b, bad)
        assert code == 2, (position, err)
        assert err.startswith("declics: error: archive refused: "), err
        assert len(err.strip().splitlines()) == 1

    # An entry rewritten consistently (a valid ZIP) still fails its manifest hash
    with zipfile.ZipFile(io.BytesIO(data)) as original:
        names = original.namelist()
        entries = {name: original.read(name) for name in names}
    entries["declics/objects.json"] = entries["declics/objects.json"].replace(
        b"comptabilit", b"COMPTABILIT"
    )
    repacked = tmp_path / "repacked.zip"
    with zipfile.ZipFile(repacked, "w") as writer:
        for name in names:
            writer.writestr(name, entries[name])
    code, _out, err = await import_into(monkeypatch, capsys, b, repacked)
    assert code == 2
    assert "declics/objects.json does not match its SHA-256" in err

    # The wrong passphrase
    code, _out, err = await import_into(
        monkeypatch, capsys, b, tmp_path / "a.zip", "not the right one\n"
    )
    assert code == 2
    assert (
        err.strip()
        == "declics: error: archive refused: wrong passphrase (or the sealed keys were altered)"
    )

    # No passphrase at all
    code, _out, err = await import_into(monkeypatch, capsys, b, tmp_path / "a.zip", "")
    assert code == 2
    assert "no passphrase" in err

    assert await counts(b) == before

    # The right archive and passphrase restore the member beside B's organisation
    code, out, err = await import_into(monkeypatch, capsys, b, tmp_path / "a.zip")
    assert code == 0, err
    assert f"as {b.base_url}/users/collectif" in out
    # The same archive a second time: the handle is taken now, nothing changes
    after = await counts(b)
    code, _out, err = await import_into(monkeypatch, capsys, b, tmp_path / "a.zip")
    assert code == 2
    assert "already exists on this host" in err
    assert await counts(b) == after


async def test_archive_holds_every_kind_of_object_with_history_and_keys_sealed(
    instances: InstanceFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = await instances("collectif", start=False)
    org = await a.organisation()
    await publish(a, practice_file("Gouvernance partagée"))
    gone = await publish(a, practice_file("Charte graphique"))
    await publish_commitments(a, "in-progress")
    await publish_commitments(a, "achieved")
    async with a.rt.sessions.begin() as session:
        actor = await session.get(LocalActor, org.id)
        assert actor is not None
        obj = await object_use_cases.find(session, actor, "practice", gone)
        assert obj is not None
        await object_use_cases.delete(session, actor, obj, a.rt.clock.now())
        await trust.add(session, org.id, "domain", "spam.example", a.rt.clock.now(), "spam")
    # A kind the archive code has never heard of travels too (tools, events…)
    async with a.rt.sessions.begin() as session:
        session.add(
            LocalObject(
                local_actor_id=org.id,
                uri=f"{a.base_url}/objects/outil-1",
                object_type="Document",
                kind="some-future-kind",
                title="Un outil",
                themes=[2],
                version=2,
                document={"id": f"{a.base_url}/objects/outil-1", "type": "Document"},
                published=a.rt.clock.now(),
            )
        )
    data = await export(monkeypatch, capsys, a, tmp_path / "a.zip")
    with zipfile.ZipFile(io.BytesIO(data)) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        objects = json.loads(opened.read("declics/objects.json"))
        keys = opened.read("declics/keys.json").decode()
        everything = b"".join(opened.read(name) for name in opened.namelist())
    assert manifest["format"] == "declics-archive" and manifest["version"] == 1
    assert set(manifest["entries"]) >= {"actor.json", "outbox.json", "declics/keys.json"}
    assert {o["object"]["kind"] for o in objects} == {"practice", "commitments", "some-future-kind"}
    assert manifest["counts"]["versions"] == 2 and manifest["counts"]["blocks"] == 1
    assert "PRIVATE KEY" not in everything.decode(errors="replace")
    assert "scrypt" in keys and "AES-256-GCM" in keys

    b = await instances("atelier", start=False)
    code, _out, err = await import_into(monkeypatch, capsys, b, tmp_path / "a.zip")
    assert code == 0, err
    async with b.rt.sessions() as session:
        moved = await local.find(session, local.domain_of(b.base_url), "collectif")
        assert moved is not None
        assert moved.also_known_as == [a.actor_id]
        assert moved.rsa_private_pem == org.rsa_private_pem
        rows = list(
            (
                await session.execute(
                    select(LocalObject).where(LocalObject.local_actor_id == moved.id)
                )
            ).scalars()
        )
        restored = {o.kind: o for o in rows if o.deleted_at is None}
        tombstones = [o.uri for o in rows if o.deleted_at is not None]
        versions = list((await session.execute(select(ObjectVersion))).scalars())
        blocks = await trust.listing(session, moved.id)
        document = local.document_of(moved)
    assert restored["some-future-kind"].uri == f"{b.base_url}/objects/outil-1"
    assert restored["some-future-kind"].version == 2
    practice = restored["practice"]
    assert practice.uri == f"{b.base_url}/practices/gouvernance-partagee"
    assert practice.document["attributedTo"] == f"{b.base_url}/users/collectif"
    assert practice.source is not None and "Corps en *Markdown*" in practice.source
    assert (
        practice.document["proof"]["verificationMethod"]
        == f"{b.base_url}/users/collectif#ed25519-key"
    )
    assert tombstones == [gone.replace(a.base_url, b.base_url)]
    assert sorted(v.version for v in versions) == [1, 2]
    assert {v.document["id"] for v in versions} == {f"{b.base_url}/commitments"}
    assert restored["commitments"].version == 2
    assert moved.charter_version == "2023-09-14"
    assert [(x.kind, x.value, x.reason) for x in blocks] == [("domain", "spam.example", "spam")]
    assert document["alsoKnownAs"] == [a.actor_id]
    assert document["id"] == f"{b.base_url}/users/collectif"


async def test_an_archive_made_during_a_key_rotation_carries_both_keys(
    instances: InstanceFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = await instances("collectif", start=False)
    code, _out, err = await declics(
        monkeypatch, capsys, ["keys", "rotate", "--data-dir", str(a.data_dir)], stdin=""
    )
    assert code == 0, err
    rotating = await a.organisation()
    assert rotating.next_rsa_private_pem is not None
    await export(monkeypatch, capsys, a, tmp_path / "a.zip")
    b = await instances("atelier", start=False)
    code, _out, err = await import_into(monkeypatch, capsys, b, tmp_path / "a.zip")
    assert code == 0, err
    async with b.rt.sessions() as session:
        moved = await local.find(session, local.domain_of(b.base_url), "collectif")
        assert moved is not None
        document = local.document_of(moved)
    assert moved.next_rsa_private_pem == rotating.next_rsa_private_pem
    assert moved.next_ed25519_private_pem == rotating.next_ed25519_private_pem
    assert [k["id"] for k in document["publicKey"]] == [
        f"{b.base_url}/users/collectif#main-key",
        f"{b.base_url}/users/collectif#main-key-1",
    ]
