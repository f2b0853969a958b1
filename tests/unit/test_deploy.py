"""deploy/: the compose file validated by the Compose tooling (Debian's docker-compose,
which checks the Compose schema and interpolation without a Docker engine), the image
and the proxies' rules that Déclics depends on."""

from __future__ import annotations

import json
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
    """`caddy adapt` parses the Caddyfile as Caddy will, into its JSON configuration."""
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed (apt-get install caddy)")
    result = subprocess.run(
        [caddy, "adapt", "--config", str(DOCKER / "Caddyfile"), "--adapter", "caddyfile"],
        env={**os.environ, "DECLICS_DOMAIN": "coop.example"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (server,) = json.loads(result.stdout)["apps"]["http"]["servers"].values()
    (route,) = server["routes"]
    assert route["match"] == [{"host": ["coop.example"]}]
    handlers = [h for r in route["handle"][0]["routes"] for h in r["handle"]]
    body = next(h for h in handlers if h["handler"] == "request_body")
    assert body["max_size"] >= 1024 * 1024  # Déclics' own limit, [inbox] max_body_bytes
    proxy = next(h for h in handlers if h["handler"] == "reverse_proxy")
    assert proxy["upstreams"] == [{"dial": "web:8000"}]


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


def self_signed(directory: Path) -> tuple[Path, Path]:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "coop.example")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_nginx_accepts_the_site(tmp_path: Path) -> None:
    """`nginx -t` on the site as shipped, with a throwaway certificate in place of
    Let's Encrypt's files, inside a minimal main configuration."""
    nginx = shutil.which("nginx")
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    cert, key = self_signed(tmp_path)
    site = (DEPLOY / "nginx" / "declics.conf").read_text(encoding="utf-8")
    live = "/etc/letsencrypt/live/coop.example/"
    assert f"{live}fullchain.pem" in site
    site = site.replace(f"{live}fullchain.pem", str(cert)).replace(f"{live}privkey.pem", str(key))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    # And it can fail: a directive nginx does not know.
    (tmp_path / "site.conf").write_text(site.replace("client_max_body_size", "client_max_body"))
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
