"""How every Kafka client of the pipeline logs in to the broker and checks it is the broker.

Not in the event flow: under all of it. The worker (Faust), the tools and tests
(kafka-python, aiokafka) and the start-up probe (:mod:`streams.runtime.reach`) connect
with the same settings, mapped here, once, to each library's options:

- ``YUJING_KAFKA_SECURITY_PROTOCOL``: PLAINTEXT (the default), SASL_PLAINTEXT, SSL or
  SASL_SSL;
- ``YUJING_KAFKA_SASL_MECHANISM``: SCRAM-SHA-512 (the default), SCRAM-SHA-256 or PLAIN;
- ``YUJING_KAFKA_SASL_USERNAME`` and ``YUJING_KAFKA_SASL_PASSWORD``, or instead of the
  password ``YUJING_KAFKA_SASL_PASSWORD_FILE`` (its first line, read at load);
- ``YUJING_KAFKA_SSL_CAFILE``: the CA (PEM) the broker's certificate must chain to (else
  the system's); ``YUJING_KAFKA_SSL_CERTFILE`` and ``YUJING_KAFKA_SSL_KEYFILE``: a client
  certificate and its unencrypted key (PEM), for a broker that asks for one.

:class:`KafkaSecuritySettings` holds these variables (it is a part of
:class:`streams.runtime.settings.Settings`) and checks them together at load, each
problem one line naming its variables; :class:`KafkaSecurity` is what a client gets:
:meth:`~KafkaSecurity.kafka_python`, :meth:`~KafkaSecurity.aiokafka` and
:meth:`~KafkaSecurity.faust_credentials`. The broker's host name is always checked
against its certificate. The password is a ``SecretStr``: never printed.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, SecretStr, model_validator

if TYPE_CHECKING:
    from faust.types.auth import CredentialsT

__all__ = ["PLAINTEXT", "KafkaSecurity", "KafkaSecuritySettings"]

Protocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"]
Mechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


def _var(name: str) -> str:
    """The variable of a field (Settings' prefix, which this module cannot import)."""
    return "YUJING_" + name.upper()


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _a_file(path: Path) -> Path:
    if not path.is_file():
        raise ValueError("no such file")
    try:
        with path.open("rb"):
            pass
    except OSError as err:
        raise ValueError(f"cannot read it ({err.strerror or err})") from None
    return path


PemFile = Annotated[Path, AfterValidator(_a_file)]


@dataclass(frozen=True)
class KafkaSecurity:
    """One way of connecting to the broker, and its options for each client library."""

    protocol: Protocol = "PLAINTEXT"
    mechanism: Mechanism = "SCRAM-SHA-512"
    username: str = ""
    password: SecretStr = field(default_factory=lambda: SecretStr(""))
    cafile: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None

    @property
    def sasl(self) -> bool:
        """Whether the client logs in (SASL_PLAINTEXT, SASL_SSL)."""
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        """Whether the connection is TLS (SSL, SASL_SSL)."""
        return self.protocol.endswith("SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context of every client (None without TLS): the CA file, else the
        system's CAs; the client certificate if any; host names checked."""
        if not self.tls:
            return None
        from aiokafka.helpers import create_ssl_context

        # a key that needs a password fails here (""), never prompts on the terminal
        return create_ssl_context(
            cafile=self.cafile,
            certfile=self.certfile,
            keyfile=self.keyfile,
            password="" if self.certfile else None,
        )

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python's KafkaProducer, KafkaConsumer and
        KafkaAdminClient ({} for PLAINTEXT: their defaults)."""
        return self._options()

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's AIOKafkaProducer, AIOKafkaConsumer and
        AIOKafkaClient ({} for PLAINTEXT: their defaults)."""
        return self._options()

    def _options(self) -> dict[str, Any]:
        # kafka-python and aiokafka name these options alike
        if self.protocol == "PLAINTEXT":
            return {}
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.sasl:
            options["sasl_mechanism"] = self.mechanism
            options["sasl_plain_username"] = self.username
            options["sasl_plain_password"] = self.password.get_secret_value()
        if self.tls:
            options["ssl_context"] = self.ssl_context()
        return options

    def faust_credentials(self) -> CredentialsT | None:
        """``broker_credentials`` for ``faust.App`` (None for PLAINTEXT)."""
        if self.protocol == "PLAINTEXT":
            return None
        import faust

        if self.sasl:  # SASL_SSL exactly when there is a TLS context
            return faust.SASLCredentials(
                username=self.username,
                password=self.password.get_secret_value(),
                ssl_context=self.ssl_context(),
                mechanism=self.mechanism,
            )
        return faust.SSLCredentials(self.ssl_context())

    def describe(self) -> str:
        """For start-up lines: ``SASL_SSL, SCRAM-SHA-512 as 'alice'``; never the password."""
        if not self.sasl:
            return self.protocol
        return f"{self.protocol}, {self.mechanism} as {self.username!r}"


#: No login, no TLS: the local development broker.
PLAINTEXT = KafkaSecurity()


class KafkaSecuritySettings(BaseModel):
    """The ``YUJING_KAFKA_SECURITY_PROTOCOL``, ``_SASL_*`` and ``_SSL_*`` settings."""

    kafka_security_protocol: Annotated[Protocol, BeforeValidator(_upper)] = "PLAINTEXT"
    kafka_sasl_mechanism: Annotated[Mechanism, BeforeValidator(_upper)] = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr | None = None
    #: A file whose first line is the password (a mounted secret), read at load.
    kafka_sasl_password_file: Path | None = None
    kafka_ssl_cafile: PemFile | None = None
    kafka_ssl_certfile: PemFile | None = None
    kafka_ssl_keyfile: PemFile | None = None

    @model_validator(mode="before")
    @classmethod
    def _password_from_file(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("kafka_sasl_password_file"):
            return data
        variable = _var("kafka_sasl_password_file")
        if data.get("kafka_sasl_password"):
            raise ValueError(f"{_var('kafka_sasl_password')} and {variable} are both set: set one")
        path = Path(data["kafka_sasl_password_file"])
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            why = getattr(err, "strerror", None) or err
            raise ValueError(f"{variable}: cannot read {path} ({why})") from None
        if not lines or not lines[0]:
            raise ValueError(f"{variable}: {path} holds no password on its first line")
        return {**data, "kafka_sasl_password": lines[0]}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = _problems(self.kafka_security)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def kafka_security(self) -> KafkaSecurity:
        """How this process's clients connect to the broker."""
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password or SecretStr(""),
            cafile=self.kafka_ssl_cafile,
            certfile=self.kafka_ssl_certfile,
            keyfile=self.kafka_ssl_keyfile,
        )


def _problems(s: KafkaSecurity) -> list[str]:
    """What is wrong with a combination of settings, each naming its variables."""
    protocol = f"{_var('kafka_security_protocol')}={s.protocol}"
    password = f"{_var('kafka_sasl_password')} (or {_var('kafka_sasl_password_file')})"
    problems = []
    if s.sasl:
        needs = [_var("kafka_sasl_username")] if not s.username else []
        needs += [password] if not s.password.get_secret_value() else []
        if needs:
            problems.append(f"{protocol} logs in: it needs {' and '.join(needs)}")
    else:
        unused = [_var("kafka_sasl_username")] if s.username else []
        unused += [password] if s.password.get_secret_value() else []
        if unused:
            problems.append(f"{' and '.join(unused)} set, but {protocol} does not log in")
    files = {"kafka_ssl_cafile": s.cafile, "kafka_ssl_certfile": s.certfile}
    files["kafka_ssl_keyfile"] = s.keyfile
    if not s.tls and any(files.values()):
        named = " and ".join(_var(f) for f, path in files.items() if path)
        problems.append(f"{named} set, but {protocol} does not use TLS")
    elif (s.certfile is None) != (s.keyfile is None):
        have, lack = ("certfile", "keyfile") if s.keyfile is None else ("keyfile", "certfile")
        problems.append(
            f"{_var('kafka_ssl_' + have)} needs {_var('kafka_ssl_' + lack)}: "
            "a client certificate goes with its key"
        )
    elif s.tls:
        problems += _unloadable(s)
    return problems


def _unloadable(s: KafkaSecurity) -> list[str]:
    """The TLS files that do not load (not PEM, a key that does not fit), checked at load."""
    try:
        context = ssl.create_default_context(cafile=s.cafile)
    except (ssl.SSLError, OSError) as err:
        return [f"{_var('kafka_ssl_cafile')}: no CA certificate (PEM) in {s.cafile} ({err})"]
    if s.certfile is None:
        return []
    try:
        context.load_cert_chain(s.certfile, s.keyfile, password="")
    except (ssl.SSLError, OSError) as err:
        return [
            f"{_var('kafka_ssl_certfile')} and {_var('kafka_ssl_keyfile')}: "
            f"not a certificate and its unencrypted key, in PEM ({err})"
        ]
    return []
