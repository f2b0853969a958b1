"""deploy/: the compose file validated by the Compose tooling (Debian's docker-compose,
which checks the Compose schema and interpolation without a Docker engine), the image
and the proxies' rules that Déclics depends on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DOCKER = DEPLOY / "docker"
ENV = {"POSTGRES_PASSWORD": "secret", "DECLICS_DOMAIN": "coop.example"}


def compose(
    *args: str, file: Path = DOCKER / "compose.yaml", env: dict[str, str] = ENV
) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DECLICS_", "POSTGRES_"))}
    return subprocess.run(
        [tool, "--project-directory", str(file.parent), "-f", str(file), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_is_valid_and_complete() -> None:
    result = compose("config")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"postgres", "migrate", "web", "worker", "caddy"}
    url = "postgresql+asyncpg://declics:secret@postgres:5432/declics"
    for name in ("migrate", "web", "worker"):
        assert services[name]["environment"]["DECLICS_DATABASE__URL"] == url
        assert services[name]["image"] == "declics:latest"
    assert services["web"]["command"] == ["serve"]
    assert services["worker"]["command"] == ["worker"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # Only the proxy is published; Déclics and PostgreSQL stay on the compose network.
    published = {p["published"] for p in services["caddy"]["ports"]}
    assert {int(p) for p in published} == {80, 443}
    for name in ("postgres", "migrate", "web", "worker"):
        assert "ports" not in services[name]


def test_compose_tooling_rejects_what_is_wrong(tmp_path: Path) -> None:
    """The check above can fail: a bad key, and a missing secret, are refused."""
    text = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "compose.yaml"
    bad.write_text(text.replace('    command: ["serve"]', '    command: ["serve"]\n    bogus: 1'))
    result = compose("config", "--quiet", file=bad)
    assert result.returncode != 0
    assert "bogus" in result.stderr
    result = compose("config", "--quiet", env={"DECLICS_DOMAIN": "coop.example"})
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def test_image_is_multi_stage_and_runs_unprivileged() -> None:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert len(stages) == 2
    assert all("slim" in image for image in stages)
    assert "COPY --from=build /opt/declics /opt/declics" in text
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users == ["declics:declics"]
    assert re.search(r'^ENTRYPOINT \["declics"\]', text, re.MULTILINE)
    ignored = (DEPLOY.parent / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", "tests"} <= set(ignored)


def test_caddy_keeps_the_body_limit_and_proxies_to_web() -> None:
    text = (DOCKER / "Caddyfile").read_text(encoding="utf-8")
    assert "{$DECLICS_DOMAIN} {" in text
    assert re.search(r"max_size 1MB", text)
    assert "reverse_proxy web:8000" in text
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed: the Caddyfile is only read, not adapted")
    result = subprocess.run(
        [caddy, "adapt", "--config", str(DOCKER / "Caddyfile"), "--adapter", "caddyfile"],
        env={**os.environ, "DECLICS_DOMAIN": "coop.example"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_nginx_site_rules() -> None:
    text = (DEPLOY / "nginx" / "declics.conf").read_text(encoding="utf-8")
    assert "listen 443 ssl" in text
    assert "client_max_body_size 1m;" in text
    assert "proxy_set_header Host $host;" in text
    # The bare domain's /.well-known goes to Déclics, never to a static directory.
    well_known = text.split("location /.well-known/ {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://127.0.0.1:8000;" in well_known
    # Déclics listens on loopback only: nothing but the proxy can send it headers.
    assert "proxy_pass http://127.0.0.1:8000;" in text
