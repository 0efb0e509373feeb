"""The shipped deployment files: rendered, then checked by `nginx -t` and `systemd-analyze verify`.

Where a tool is missing the files are still parsed here (nginx's blocks and
statements; the units with configparser), so nothing is skipped silently.
`make install-test` installs nginx-light and systemd (Makefile APT_TEST).
"""

from __future__ import annotations

import configparser
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = (
    "fieldwatch.service",
    "fieldwatch-notify.service",
    "fieldwatch-notify.timer",
    "fieldwatch-backup.service",
    "fieldwatch-backup.timer",
    "fieldwatch-privacy.service",
    "fieldwatch-privacy.timer",
)


def _render_module():
    spec = importlib.util.spec_from_file_location("fw_render", REPO / "deploy" / "render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """The files rendered for this checkout, with a self-signed certificate made here."""
    root = tmp_path_factory.mktemp("deploy")
    cert, key = root / "cert.pem", root / "key.pem"
    _self_signed(cert, key)
    for folder in ("data", "backups", "logs", "acme"):
        (root / folder).mkdir()
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "deploy" / "render.py"),
            "--domain",
            "fw.example.gov.cn",
            "--out",
            str(root / "out"),
            "--app-dir",
            str(REPO),
            "--venv",
            str(Path(sys.executable).parent.parent),
            "--data-dir",
            str(root / "data"),
            "--backup-dir",
            str(root / "backups"),
            "--log-dir",
            str(root / "logs"),
            "--acme-root",
            str(root / "acme"),
            "--ssl-certificate",
            str(cert),
            "--ssl-certificate-key",
            str(key),
            "--port",
            "8123",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 9
    return root


def _self_signed(cert: Path, key: Path) -> None:
    if shutil.which("openssl"):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=fw.example.gov.cn"],
            check=True,
            capture_output=True,
        )
        return
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fw.example.gov.cn")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _unit(rendered: Path, name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((rendered / "out/etc/systemd/system" / name).read_text())
    return parser


def test_units_parse_and_say_what_they_must(rendered):
    venv_bin = Path(sys.executable).parent
    app = _unit(rendered, "fieldwatch.service")["Service"]
    assert app["ExecStart"] == (
        f"{venv_bin}/fieldwatch serve --host 127.0.0.1 --port 8123 --workers 3"
    )
    assert app["EnvironmentFile"] == "/etc/fieldwatch/env" and app["User"] == "fieldwatch"
    for hardening in ("NoNewPrivileges", "ProtectSystem", "PrivateTmp", "ProtectHome"):
        assert app[hardening] in ("yes", "strict"), hardening
    assert app["ReadWritePaths"] == str(rendered / "data")
    notify = _unit(rendered, "fieldwatch-notify.timer")["Timer"]
    assert notify["OnCalendar"] == "*:0/5" and notify["Unit"] == "fieldwatch-notify.service"
    assert _unit(rendered, "fieldwatch-notify.service")["Service"]["ExecStart"].endswith(
        "/fieldwatch notify"
    )
    backup = _unit(rendered, "fieldwatch-backup.service")["Service"]
    assert (
        f"fieldwatch backup {rendered}/backups/fw-$$(date +%%Y%%m%%d-%%H%%M%%S).tar"
        in (backup["ExecStart"])
    )
    assert _unit(rendered, "fieldwatch-backup.timer")["Timer"]["Persistent"] == "true"
    for name in UNITS:
        text = (rendered / "out/etc/systemd/system" / name).read_text()
        assert "{{" not in text and "}}" not in text


def test_systemd_analyze_verify(rendered):
    folder = rendered / "out/etc/systemd/system"
    tool = shutil.which("systemd-analyze")
    if tool is None:
        # no systemd here: the configparser checks above are what we can do
        for name in UNITS:
            assert _unit(rendered, name).sections()
        return
    result = subprocess.run(
        [tool, "verify", "--man=no", *(str(folder / n) for n in UNITS)],
        capture_output=True,
        text=True,
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    # unknown keys and unparseable values are only warnings: none is allowed
    ours = [line for line in result.stderr.splitlines() if "fieldwatch" in line]
    assert ours == [], result.stderr


def test_systemd_analyze_catches_a_broken_unit(rendered, tmp_path):
    """The check above can fail: a misspelt key and a missing program are reported."""
    tool = shutil.which("systemd-analyze")
    broken = tmp_path / "fieldwatch-broken.service"
    text = (rendered / "out/etc/systemd/system/fieldwatch.service").read_text()
    broken.write_text(
        text.replace("ProtectHome=yes", "ProtectHom=yes").replace(
            "/bin/fieldwatch serve", "/bin/fieldwatch-missing serve"
        )
    )
    if tool is None:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read_string(broken.read_text())
        assert "ProtectHom" in parser["Service"]
        return
    result = subprocess.run(
        [tool, "verify", "--man=no", str(broken)], capture_output=True, text=True
    )
    assert "Unknown key" in result.stderr and "fieldwatch-missing" in result.stderr


def _nginx_structure(text: str) -> None:
    """Balanced braces; every statement ends with ';' (what nginx -t checks first)."""
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    depth = 0
    for char in code:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, "a } without its {"
    assert depth == 0, "a { without its }"
    assert not re.search(r"[^;{}\s]\s*}", code), "a statement before } lacks its ;"
    assert not code.rstrip() or code.rstrip()[-1] in ";}", "the file ends inside a statement"


def _nginx_main(rendered: Path) -> Path:
    root = rendered
    site = root / "out/etc/nginx/sites-available/fieldwatch.conf"
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    conf = root / "nginx-test.conf"
    conf.write_text(
        f"""
pid {root}/nginx.pid;
error_log {root}/logs/error.log;
events {{}}
http {{
    {mime}
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    access_log {root}/logs/access.log;
    include {site};
}}
"""
    )
    return conf


def test_nginx_site(rendered):
    site = (rendered / "out/etc/nginx/sites-available/fieldwatch.conf").read_text()
    _nginx_structure(site)
    assert "listen 443 ssl http2;" in site and "return 301 https://$host$request_uri;" in site
    assert 'add_header Strict-Transport-Security "max-age=31536000" always;' in site
    assert "client_max_body_size 62m;" in site
    assert f"alias {REPO}/static/;" in site
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in site
    assert "server 127.0.0.1:8123;" in site
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        return  # the structure check above stands in for nginx -t
    conf = _nginx_main(rendered)
    result = subprocess.run(
        [nginx, "-t", "-p", str(rendered), "-c", str(conf), "-e", str(rendered / "logs/error.log")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    # the check can fail: a typo is refused
    (rendered / "out/etc/nginx/sites-available/fieldwatch.conf").write_text(
        site.replace("proxy_read_timeout 90s;", "proxy_read_timeout ninety;")
    )
    try:
        bad = subprocess.run(
            [
                nginx,
                "-t",
                "-p",
                str(rendered),
                "-c",
                str(conf),
                "-e",
                str(rendered / "logs/error.log"),
            ],
            capture_output=True,
            text=True,
        )
    finally:
        (rendered / "out/etc/nginx/sites-available/fieldwatch.conf").write_text(site)
    assert bad.returncode != 0 and "proxy_read_timeout" in bad.stderr


def test_env_file_and_render_refuses_bad_values(rendered, tmp_path):
    env = (rendered / "out/etc/fieldwatch/env").read_text()
    settings = dict(
        line.split("=", 1) for line in env.splitlines() if line and not line.startswith("#")
    )
    assert settings["FIELDWATCH_INSTANCE"] == str(rendered / "data")
    assert settings["FIELDWATCH_BASE_URL"] == "https://fw.example.gov.cn"
    assert settings["FIELDWATCH_SECURE_COOKIES"] == "1"
    assert settings["FIELDWATCH_DATABASE_URL"].startswith("postgresql://fieldwatch@/fieldwatch")
    render = _render_module()
    assert render.main(["--domain", "bad domain", "--out", str(tmp_path)]) == 1
    assert render.main(["--domain", "a.b", "--out", str(tmp_path), "--port", "0"]) == 1
    assert render.main(["--domain", "a.b", "--out", str(tmp_path), "--app-dir", "rel/path"]) == 1
    with pytest.raises(render.RenderError, match="no value for nope"):
        render.render_text("x {{nope}}", {})
    # the defaults are the paths docs/deploy.md uses
    assert render.main(["--domain", "fw.example.gov.cn", "--out", str(tmp_path)]) == 0
    unit = (tmp_path / "etc/systemd/system/fieldwatch.service").read_text()
    assert "ExecStart=/opt/fieldwatch/.venv/bin/fieldwatch serve" in unit
    site = (tmp_path / "etc/nginx/sites-available/fieldwatch.conf").read_text()
    assert "/etc/letsencrypt/live/fw.example.gov.cn/fullchain.pem" in site


def test_docs_name_the_commands_that_exist():
    doc = (REPO / "docs" / "deploy.md").read_text()
    for command in (
        "fieldwatch users create admin --role admin --password-stdin",
        "fieldwatch db upgrade",
        "deploy/render.py",
        "systemctl enable --now fieldwatch-notify.timer",
        "fieldwatch backup",
        "nginx -t",
    ):
        assert command in doc, command
    assert re.search(r"systemctl stop fieldwatch\b", doc)
