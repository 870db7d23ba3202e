"""Tests of what ``yujing broker start --secure`` writes, without a broker.

streams.dev.broker.secure, tls and process: the rendered ``server.properties`` (only
SASL_SSL listeners, the authorizer, no auto-creation), the certificates (names, CA,
reuse, renewal), passwords and credentials files (mode 0600, exactly their lines), the
storage tool's secrets kept off its command line, and the one-line refusals of a broker
started the other way than it was formatted.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from streams.dev.broker import BrokerConfig, BrokerError
from streams.dev.broker.files import BrokerFiles
from streams.dev.broker.probe import Login
from streams.dev.broker.process import BrokerProcess
from streams.dev.broker.secure import (
    BROKER_USER,
    SecureBroker,
    check_mode,
    record_mode,
    recorded_mode,
    secrets_lines,
)
from streams.dev.broker.tls import ensure_certificates

Cli = Callable[..., int]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _properties(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in path.read_text("utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )


@pytest.fixture
def secure(tmp_path: Path) -> SecureBroker:
    config = BrokerConfig(home=tmp_path, port=19092, controller_port=19093)
    return SecureBroker(config, BrokerFiles(config.home))


def test_the_secure_properties_have_no_plaintext_listener(secure: SecureBroker) -> None:
    secure.files.write_config_files(secure.config, security=secure.prepare())
    path = secure.files.properties_path
    props = _properties(path)
    assert props["listeners"] == "SASL_SSL://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "SASL_SSL://127.0.0.1:19092"
    assert props["listener.security.protocol.map"] == "SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL"
    assert "PLAINTEXT" not in path.read_text("utf-8").replace("SASL_PLAINTEXT", "")
    assert props["inter.broker.listener.name"] == "SASL_SSL"
    assert props["listener.name.sasl_ssl.sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["sasl.mechanism.inter.broker.protocol"] == "SCRAM-SHA-512"
    assert props["listener.name.controller.sasl.enabled.mechanisms"] == "PLAIN"
    assert props["authorizer.class.name"] == (
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    )
    assert props["super.users"] == f"User:admin;User:{BROKER_USER}"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["auto.create.topics.enable"] == "false"
    assert props["ssl.keystore.type"] == props["ssl.truststore.type"] == "PEM"
    assert Path(props["ssl.keystore.location"]) == secure.tls.keystore
    assert Path(props["ssl.truststore.location"]) == secure.tls.ca_cert
    assert "$" not in path.read_text("utf-8")
    # the broker's own password is in it: its owner's only
    assert (
        secure.passwords()[BROKER_USER] in props["listener.name.controller.plain.sasl.jaas.config"]
    )
    assert _mode(path) == 0o600


def test_the_plain_properties_are_as_before(tmp_path: Path) -> None:
    config = BrokerConfig(home=tmp_path, port=19092, controller_port=19093)
    files = BrokerFiles(config.home)
    files.write_config_files(config)
    props = _properties(files.properties_path)
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["auto.create.topics.enable"] == "true"
    assert "authorizer.class.name" not in props
    assert "$" not in files.properties_path.read_text("utf-8")


def test_the_certificates_name_the_loopback_and_chain_to_the_ca(secure: SecureBroker) -> None:
    tls = ensure_certificates(secure.dir)
    ca = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    cert = x509.load_pem_x509_certificate(tls.keystore.read_bytes())
    cert.verify_directly_issued_by(ca)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    keystore = tls.keystore.read_text("ascii")
    assert keystore.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, as Kafka reads it
    assert keystore.count("BEGIN CERTIFICATE") == 2  # the broker's, then the CA's
    assert _mode(tls.ca_key) == _mode(tls.keystore) == 0o600
    assert _mode(secure.dir) == 0o700


def test_certificates_are_kept_and_renewed_from_the_same_ca(
    secure: SecureBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = ensure_certificates(secure.dir)
    kept = {p: p.read_bytes() for p in (tls.ca_cert, tls.ca_key, tls.keystore)}
    ensure_certificates(secure.dir)
    assert {p: p.read_bytes() for p in kept} == kept
    # a broker certificate near its end is issued again; the CA clients trust stays
    monkeypatch.setattr("streams.dev.broker.tls.RENEW_BEFORE", dt.timedelta(days=100_000))
    ensure_certificates(secure.dir)
    assert tls.ca_cert.read_bytes() == kept[tls.ca_cert]
    assert tls.ca_key.read_bytes() == kept[tls.ca_key]
    assert tls.keystore.read_bytes() != kept[tls.keystore]
    ca = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    x509.load_pem_x509_certificate(tls.keystore.read_bytes()).verify_directly_issued_by(ca)


def test_passwords_are_random_private_and_kept(secure: SecureBroker) -> None:
    first = secure.passwords()
    assert set(first) == {"admin", "worker", "tools", "downstream", BROKER_USER}
    assert len(set(first.values())) == 5 and all(len(p) >= 32 for p in first.values())
    assert _mode(secure.passwords_path) == 0o600
    assert secure.passwords() == first
    assert secure.scram_credentials()[0] == f"SCRAM-SHA-512=[name=admin,password={first['admin']}]"


def test_passwords_lost_after_the_format_are_one_line(secure: SecureBroker) -> None:
    secure.passwords()
    secure.files.data_dir.mkdir(parents=True)
    (secure.files.data_dir / "meta.properties").write_text("cluster.id=x\n")
    secure.passwords_path.unlink()
    with pytest.raises(BrokerError, match=r"passwords .* are gone: remove") as err:
        secure.passwords()
    assert "\n" not in str(err.value)


def test_each_user_gets_exactly_the_lines_a_client_needs(secure: SecureBroker) -> None:
    secure.prepare()
    directory = secure.write_secrets()
    assert directory == secure.config.home / "secrets" and _mode(directory) == 0o700
    for user in ("admin", "worker", "tools", "downstream"):
        path = directory / f"{user}.env"
        assert _mode(path) == 0o600
        assert path.read_text("utf-8").splitlines() == [
            "YUJING_KAFKA_BOOTSTRAP=127.0.0.1:19092",
            "YUJING_KAFKA_SECURITY_PROTOCOL=SASL_SSL",
            "YUJING_KAFKA_SASL_MECHANISM=SCRAM-SHA-512",
            f"YUJING_KAFKA_SASL_USERNAME={user}",
            f"YUJING_KAFKA_SASL_PASSWORD={secure.passwords()[user]}",
            f"YUJING_KAFKA_SSL_CAFILE={secure.tls.ca_cert.resolve()}",
        ]
    assert not (directory / f"{BROKER_USER}.env").exists()
    assert secrets_lines("h:1", "u", "p", Path("/ca.pem")).count("\n") == 6


def test_a_login_never_shows_its_password() -> None:
    login = Login("admin", "s3cret-password", Path("/ca.pem"))
    assert "s3cret" not in repr(login) and "s3cret" not in str(login)


def test_the_storage_tool_reads_its_secrets_from_a_private_file(
    secure: SecureBroker, tmp_path: Path
) -> None:
    # A stand-in for java records its command line and the argument file it was given.
    seen = tmp_path / "seen"
    seen.mkdir()
    java = tmp_path / "java"
    java.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        f"seen = {str(seen)!r}\n"
        "open(os.path.join(seen, 'argv'), 'w').write('\\n'.join(sys.argv[1:]))\n"
        "for arg in sys.argv[1:]:\n"
        "    if arg.startswith('@'):\n"
        "        open(os.path.join(seen, 'argfile'), 'w').write(open(arg[1:]).read())\n"
        "        mode = oct(os.stat(arg[1:]).st_mode & 0o777)\n"
        "        open(os.path.join(seen, 'mode'), 'w').write(mode)\n"
    )
    java.chmod(0o755)
    secure.files.write_config_files(secure.config, security=secure.prepare())
    BrokerProcess(secure.files).format_storage(
        str(java), tmp_path, "id-1", secure.scram_credentials()
    )
    password = secure.passwords()["admin"]
    assert password not in (seen / "argv").read_text()
    args = (seen / "argfile").read_text().splitlines()
    assert args[:2] == ['"kafka.tools.StorageTool"', '"format"']
    assert f'"SCRAM-SHA-512=[name=admin,password={password}]"' in args
    assert (seen / "mode").read_text() == "0o600"
    assert not list(secure.files.dir.glob("*.args"))  # removed afterwards


def test_a_broker_starts_only_the_way_it_was_formatted(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path)
    assert recorded_mode(files) is None
    check_mode(files, secure=True)
    check_mode(files, secure=False)
    files.data_dir.mkdir(parents=True)
    (files.data_dir / "meta.properties").write_text("cluster.id=x\n")
    assert recorded_mode(files) == "plain"  # formatted before modes were recorded
    with pytest.raises(BrokerError, match="set up plain: start it without --secure, or remove"):
        check_mode(files, secure=True)
    record_mode(files, secure=True)
    check_mode(files, secure=True)
    with pytest.raises(BrokerError, match="set up secure: start it with --secure, or remove"):
        check_mode(files, secure=False)


def _flags(home: Path) -> list[str]:
    return ["broker", "--home", str(home), "--port", "19092", "--controller-port", "19093"]


@pytest.mark.parametrize("formatted", ["plain", "secure"])
def test_cli_start_the_other_way_is_one_line(
    formatted: str, tmp_path: Path, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    files = BrokerFiles(tmp_path)
    files.data_dir.mkdir(parents=True)
    (files.data_dir / "meta.properties").write_text("cluster.id=x\n")
    record_mode(files, secure=formatted == "secure")
    flags = [] if formatted == "secure" else ["--secure"]
    assert yujing(*_flags(tmp_path), "start", *flags) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"was set up {formatted}" in err and f"remove {files.dir}" in err


def test_cli_secure_is_for_the_single_broker(
    tmp_path: Path, yujing: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    assert yujing(*_flags(tmp_path), "start", "--secure", "--nodes", "3") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--secure runs the single broker only" in err
    assert not (tmp_path / "cluster").exists() and not (tmp_path / "broker").exists()
