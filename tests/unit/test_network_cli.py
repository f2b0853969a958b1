"""`declics directory refresh` and `declics directory list`, run in-process.

No network: the organisation follows nobody, so a round visits only itself (from the
database); it is listed once its commitments are published.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from federation import cli
from tests.unit.test_cli import BASE_URL, init_args, run

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    data_dir = tmp_path / "instance"
    assert cli.main(init_args(data_dir, "--dev", "--port", "8765", base_url=BASE_URL)) == 0
    return data_dir


def test_refresh_then_list(capsys: pytest.CaptureFixture[str], instance: Path) -> None:
    data_dir = str(instance)
    code, out, _ = run(capsys, "directory", "refresh", "--data-dir", data_dir)
    assert code == 0
    assert "crawl round 1: 0 members" in out and "not-member 1" in out
    code, out, _ = run(capsys, "directory", "list", "--data-dir", data_dir, "--json")
    assert (code, json.loads(out)) == (0, [])

    example = str(REPO / "config" / "commitments.example.toml")
    assert run(capsys, "commitments", "publish", "--data-dir", data_dir, example)[0] == 0
    code, out, _ = run(capsys, "directory", "refresh", "--data-dir", data_dir)
    assert code == 0 and "crawl round 2: 1 members" in out
    code, out, _ = run(capsys, "directory", "list", "--data-dir", data_dir, "--json")
    (entry,) = json.loads(out)
    assert entry["id"] == f"{BASE_URL}/users/collectif"
    assert entry["local"] is True
    assert entry["charterVersion"] == "2023-09-14"
    assert entry["commitments"] and entry["vouchedBy"] == []
    code, out, _ = run(capsys, "directory", "list", "--data-dir", data_dir)
    assert out.startswith("collectif@127.0.0.1:8765\tLe Collectif\t")
    code, out, _ = run(
        capsys, "directory", "list", "--data-dir", data_dir, "--territory", "Nowhere"
    )
    assert out == "(no member matches)\n"


def test_list_refuses_an_unknown_progress(
    capsys: pytest.CaptureFixture[str], instance: Path
) -> None:
    code, _, err = run(
        capsys, "directory", "list", "--data-dir", str(instance), "--progress", "done"
    )
    assert code == 2 and "--progress must be one of" in err
