"""Kafka security settings: read, checked together at load, mapped to each client library.

No broker: the mapping is checked on the options each library gets (and, for Faust,
on what its own transport makes of them). The clients against a secured broker:
tests/scenarios/test_secured_broker.py.
"""

from __future__ import annotations

import argparse
import ssl
from pathlib import Path

import faust
import pytest
from aiokafka import errors as aiokafka_errors
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from kafka import errors as kafka_errors
from pki import Pem, make_ca, make_cert
from pydantic import SecretStr

from streams.cli import run_reporting_errors
from streams.core.shared.config import ConfigError
from streams.runtime.app import create_pipeline
from streams.runtime.kafka_security import PLAINTEXT, KafkaSecurity, KafkaSecuritySettings
from streams.runtime.reach import login_refusal
from streams.runtime.settings import Settings

PASSWORD = "s3cr3t-Pa55"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pem]:
    d = tmp_path_factory.mktemp("pki")
    ca = make_ca(d)
    return {
        "ca": ca,
        "client": make_cert(d, ca, "client"),
        "other": make_cert(d, make_ca(d / "other", "other-ca"), "other-client"),
    }


def sasl_ssl(ca: Path, **more: str) -> dict[str, str]:
    return {
        "YUJING_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "YUJING_KAFKA_SASL_USERNAME": "alice",
        "YUJING_KAFKA_SASL_PASSWORD": PASSWORD,
        "YUJING_KAFKA_SSL_CAFILE": str(ca),
        **more,
    }


def _error(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        Settings.from_env(environ)
    message = str(info.value)
    assert "\n" not in message and PASSWORD not in message
    return message


# --------------------------------------------------------------------------- defaults


def test_the_default_is_plaintext_and_changes_no_client_option() -> None:
    s = Settings.from_env({})
    assert s.kafka_security == PLAINTEXT == KafkaSecurity()
    assert (PLAINTEXT.kafka_python(), PLAINTEXT.aiokafka()) == ({}, {})
    assert PLAINTEXT.faust_credentials() is None and PLAINTEXT.ssl_context() is None
    assert create_pipeline(s).app.conf.broker_credentials is None
    assert set(KafkaSecuritySettings.model_fields) <= set(Settings.model_fields)


def test_the_variables_are_the_documented_ones() -> None:
    assert {Settings.variable(f) for f in KafkaSecuritySettings.model_fields} == {
        "YUJING_KAFKA_SECURITY_PROTOCOL",
        "YUJING_KAFKA_SASL_MECHANISM",
        "YUJING_KAFKA_SASL_USERNAME",
        "YUJING_KAFKA_SASL_PASSWORD",
        "YUJING_KAFKA_SASL_PASSWORD_FILE",
        "YUJING_KAFKA_SSL_CAFILE",
        "YUJING_KAFKA_SSL_CERTFILE",
        "YUJING_KAFKA_SSL_KEYFILE",
    }


# --------------------------------------------------------------------------- the mapping


def test_sasl_ssl_maps_to_every_library(tls: dict[str, Pem]) -> None:
    env = sasl_ssl(tls["ca"].cert, YUJING_KAFKA_SECURITY_PROTOCOL="sasl_ssl")
    security = Settings.from_env(env).kafka_security
    assert security == KafkaSecurity(
        "SASL_SSL", "SCRAM-SHA-512", "alice", SecretStr(PASSWORD), tls["ca"].cert
    )
    for options in (security.kafka_python(), security.aiokafka()):
        context = options.pop("ssl_context")
        assert options == {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": "alice",
            "sasl_plain_password": PASSWORD,
        }
        assert isinstance(context, ssl.SSLContext)
        assert context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED
        assert [c["subject"] for c in context.get_ca_certs()] == [
            ((("commonName", "yujing-test-ca"),),)
        ]
    credentials = security.faust_credentials()
    assert isinstance(credentials, faust.SASLCredentials)
    auth = credentials_to_aiokafka_auth(credentials)  # what Faust's own clients get
    assert isinstance(auth.pop("ssl_context"), ssl.SSLContext)
    assert auth == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "alice",
        "sasl_plain_password": PASSWORD,
    }


def test_the_worker_app_gets_the_credentials(tls: dict[str, Pem]) -> None:
    settings = Settings.from_env(sasl_ssl(tls["ca"].cert))
    conf = create_pipeline(settings).app.conf
    assert isinstance(conf.broker_credentials, faust.SASLCredentials)
    assert conf.broker_credentials.username == "alice"
    assert conf.broker_credentials.mechanism.value == "SCRAM-SHA-512"


def test_sasl_plaintext_has_no_tls() -> None:
    env = {
        "YUJING_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "YUJING_KAFKA_SASL_MECHANISM": "scram-sha-256",
        "YUJING_KAFKA_SASL_USERNAME": "bob",
        "YUJING_KAFKA_SASL_PASSWORD": PASSWORD,
    }
    security = Settings.from_env(env).kafka_security
    assert security.aiokafka() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "bob",
        "sasl_plain_password": PASSWORD,
    }
    credentials = security.faust_credentials()
    assert credentials_to_aiokafka_auth(credentials) == {**security.aiokafka(), "ssl_context": None}


def test_ssl_with_a_client_certificate(tls: dict[str, Pem]) -> None:
    env = {
        "YUJING_KAFKA_SECURITY_PROTOCOL": "SSL",
        "YUJING_KAFKA_SSL_CAFILE": str(tls["ca"].cert),
        "YUJING_KAFKA_SSL_CERTFILE": str(tls["client"].cert),
        "YUJING_KAFKA_SSL_KEYFILE": str(tls["client"].key),
    }
    security = Settings.from_env(env).kafka_security
    options = security.kafka_python()
    assert options.keys() == {"security_protocol", "ssl_context"}
    assert options["security_protocol"] == "SSL"
    credentials = security.faust_credentials()
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials_to_aiokafka_auth(credentials)["security_protocol"] == "SSL"
    assert security.describe() == "SSL"


def test_ssl_without_a_ca_file_trusts_the_systems_cas() -> None:
    security = Settings.from_env({"YUJING_KAFKA_SECURITY_PROTOCOL": "SSL"}).kafka_security
    context = security.ssl_context()
    assert context is not None and context.verify_mode is ssl.CERT_REQUIRED


# --------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"YUJING_KAFKA_SECURITY_PROTOCOL": "TLS"},
            "YUJING_KAFKA_SECURITY_PROTOCOL: input should be 'PLAINTEXT', 'SASL_PLAINTEXT', "
            "'SSL' or 'SASL_SSL', got 'TLS'",
        ),
        (
            {"YUJING_KAFKA_SASL_MECHANISM": "GSSAPI"},
            "YUJING_KAFKA_SASL_MECHANISM: input should be 'SCRAM-SHA-512', 'SCRAM-SHA-256' "
            "or 'PLAIN', got 'GSSAPI'",
        ),
        (
            {"YUJING_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
            "YUJING_KAFKA_SECURITY_PROTOCOL=SASL_SSL logs in: it needs "
            "YUJING_KAFKA_SASL_USERNAME and YUJING_KAFKA_SASL_PASSWORD "
            "(or YUJING_KAFKA_SASL_PASSWORD_FILE)",
        ),
        (
            {"YUJING_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "YUJING_KAFKA_SASL_USERNAME": "a"},
            "YUJING_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT logs in: it needs "
            "YUJING_KAFKA_SASL_PASSWORD (or YUJING_KAFKA_SASL_PASSWORD_FILE)",
        ),
        (
            {"YUJING_KAFKA_SASL_USERNAME": "a", "YUJING_KAFKA_SASL_PASSWORD": PASSWORD},
            "YUJING_KAFKA_SASL_USERNAME and YUJING_KAFKA_SASL_PASSWORD "
            "(or YUJING_KAFKA_SASL_PASSWORD_FILE) set, but "
            "YUJING_KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not log in",
        ),
        (
            {"YUJING_KAFKA_SSL_CAFILE": "/no/such/ca.pem"},
            "YUJING_KAFKA_SSL_CAFILE: no such file, got '/no/such/ca.pem'",
        ),
        (
            {"YUJING_KAFKA_SASL_PASSWORD_FILE": "/no/such/password"},
            "YUJING_KAFKA_SASL_PASSWORD_FILE: cannot read /no/such/password "
            "(No such file or directory)",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_variables(
    environ: dict[str, str], expected: str
) -> None:
    assert _error(environ) == expected


def test_tls_files_must_go_with_a_tls_protocol_and_load(
    tls: dict[str, Pem], tmp_path: Path
) -> None:
    ca, client = str(tls["ca"].cert), tls["client"]
    assert _error({"YUJING_KAFKA_SSL_CAFILE": ca}) == (
        "YUJING_KAFKA_SSL_CAFILE set, but YUJING_KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS"
    )
    ssl_env = {"YUJING_KAFKA_SECURITY_PROTOCOL": "SSL", "YUJING_KAFKA_SSL_CAFILE": ca}
    assert _error({**ssl_env, "YUJING_KAFKA_SSL_CERTFILE": str(client.cert)}) == (
        "YUJING_KAFKA_SSL_CERTFILE needs YUJING_KAFKA_SSL_KEYFILE: "
        "a client certificate goes with its key"
    )
    assert _error({**ssl_env, "YUJING_KAFKA_SSL_KEYFILE": str(client.key)}).startswith(
        "YUJING_KAFKA_SSL_KEYFILE needs YUJING_KAFKA_SSL_CERTFILE"
    )
    mismatched = {"YUJING_KAFKA_SSL_CERTFILE": str(client.cert)}
    mismatched["YUJING_KAFKA_SSL_KEYFILE"] = str(tls["other"].key)
    assert _error({**ssl_env, **mismatched}).startswith(
        "YUJING_KAFKA_SSL_CERTFILE and YUJING_KAFKA_SSL_KEYFILE: not a certificate and its "
        "unencrypted key, in PEM ("
    )
    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("not a certificate\n")
    assert _error({**ssl_env, "YUJING_KAFKA_SSL_CAFILE": str(not_pem)}).startswith(
        f"YUJING_KAFKA_SSL_CAFILE: no CA certificate (PEM) in {not_pem} ("
    )


def test_the_password_may_come_from_a_file(tls: dict[str, Pem], tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    env = sasl_ssl(tls["ca"].cert, YUJING_KAFKA_SASL_PASSWORD_FILE=str(secret))
    del env["YUJING_KAFKA_SASL_PASSWORD"]
    assert Settings.from_env(env).kafka_security.password.get_secret_value() == PASSWORD
    assert _error({**env, "YUJING_KAFKA_SASL_PASSWORD": "other"}) == (
        "YUJING_KAFKA_SASL_PASSWORD and YUJING_KAFKA_SASL_PASSWORD_FILE are both set: set one"
    )
    secret.write_text("\n")
    assert _error(env) == (
        f"YUJING_KAFKA_SASL_PASSWORD_FILE: {secret} holds no password on its first line"
    )


def test_the_password_is_never_printed(tls: dict[str, Pem]) -> None:
    settings = Settings.from_env(sasl_ssl(tls["ca"].cert))
    security = settings.kafka_security
    shown = [repr(settings), str(settings), repr(security), security.describe()]
    shown.append(repr(security.faust_credentials()))
    assert not [text for text in shown if PASSWORD in text]
    assert security.describe() == "SASL_SSL, SCRAM-SHA-512 as 'alice'"
    with pytest.raises(ConfigError) as info:
        Settings.from_env({}, kafka_sasl_password=[PASSWORD])
    assert str(info.value).endswith("got <hidden>") and PASSWORD not in str(info.value)


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "error",
    [
        aiokafka_errors.SaslAuthenticationFailed("invalid credentials"),
        kafka_errors.SaslAuthenticationFailedError("invalid credentials"),
    ],
)
def test_a_login_refused_after_the_probe_is_one_line(
    error: Exception, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in sasl_ssl(Path("/nowhere")).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("YUJING_KAFKA_SSL_CAFILE")
    monkeypatch.setenv("YUJING_KAFKA_BOOTSTRAP", "kafka-1:9093")

    def command(args: argparse.Namespace) -> int:
        raise error

    args = argparse.Namespace(command="replay", func=command)
    assert run_reporting_errors(args) == 3
    assert capsys.readouterr().err == (
        "yujing replay: broker at kafka-1:9093 refused this client: the login of 'alice' "
        "(SCRAM-SHA-512) failed: a wrong YUJING_KAFKA_SASL_USERNAME or "
        "YUJING_KAFKA_SASL_PASSWORD?\n"
    )


def test_other_errors_are_not_taken_for_a_refusal() -> None:
    def command(args: argparse.Namespace) -> int:
        raise BrokenPipeError("closed")

    with pytest.raises(BrokenPipeError):
        run_reporting_errors(argparse.Namespace(command="replay", func=command))
    mechanism = aiokafka_errors.UnsupportedSaslMechanismError()
    assert login_refusal(mechanism, PLAINTEXT) == (
        "it does not offer SCRAM-SHA-512 (YUJING_KAFKA_SASL_MECHANISM)"
    )
    assert login_refusal(RuntimeError("SaslAuthenticationFailed"), PLAINTEXT) == ""
