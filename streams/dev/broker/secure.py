"""``yujing broker start --secure``: the local broker with TLS, SCRAM users and ACLs.

Where this sits: development infrastructure, not in the event flow. It turns the single
broker of :mod:`~streams.dev.broker.local` into one that checks who connects and what
they may do, so the pipeline can be run (and tested) as it would be against a
production cluster. What a secure broker is:

* **one client listener, SASL_SSL** on the broker port: TLS with a certificate for
  ``127.0.0.1``/``localhost`` signed by a CA of its own (:mod:`~streams.dev.broker.tls`),
  and SCRAM-SHA-512 logins. No listener takes a client without a password;
* **users** ``admin`` (a super user), ``worker``, ``tools`` and ``downstream``, with
  random passwords (:func:`secrets.token_urlsafe`) written into the metadata log when
  the storage is formatted (``kafka-storage format --add-scram``), so they exist before
  the first client. The arguments go through a Java argument file of mode 0600, never
  the command line other users may list;
* **the broker's own traffic** uses a fifth user, ``broker`` (a super user, given to no
  one): inter-broker requests over the client listener with SCRAM, and the broker's
  requests to its KRaft controller over the loopback controller listener, also
  SASL_SSL but with SASL/PLAIN (a controller cannot check SCRAM, whose credentials live
  in the metadata it serves), ``broker`` being the only user that listener knows. So no
  listener is plaintext, and none lets an anonymous client in (a plaintext controller
  listener would need ``User:ANONYMOUS`` as a super user: anyone on the machine);
* **authorisation**: the StandardAuthorizer, nothing allowed without an ACL
  (``allow.everyone.if.no.acl.found=false``), no topic created on first use; the ACLs of
  ``worker``, ``tools`` and ``downstream`` are made to match
  :func:`~streams.dev.broker.acls.acl_plan` on every start, once the broker answers;
* **files**: everything under ``<home>/broker/secure/`` (0700): the CA and its key, the
  broker's key store, ``passwords.env`` (0600); ``server.properties`` is 0600 too (it
  holds ``broker``'s password). Each user gets ``<home>/secrets/<user>.env`` (0600),
  the ``YUJING_KAFKA_*`` lines a client needs (``YUJING_ENV_FILE`` names one).

A broker is formatted once, plain or secure, and ``<home>/broker/security.mode`` records
which: starting it the other way is a one-line error (:func:`check_mode`).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from streams.dev.broker.acls import USERS, Naming, acl_plan
from streams.dev.broker.config import BrokerConfig, BrokerError
from streams.dev.broker.files import BrokerFiles, write_private
from streams.dev.broker.probe import SASL_MECHANISM, Login
from streams.dev.broker.tls import TlsFiles, ensure_certificates

__all__ = [
    "BROKER_USER",
    "SecureBroker",
    "check_mode",
    "record_mode",
    "recorded_mode",
    "secrets_lines",
    "secure_security",
]

#: The broker's own user (inter-broker and controller traffic); a super user.
BROKER_USER = "broker"
_SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"
_PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def _mode_path(files: BrokerFiles) -> Path:
    return files.dir / "security.mode"


def recorded_mode(files: BrokerFiles) -> str | None:
    """``"secure"`` or ``"plain"``: how this broker's storage was formatted; None if not yet.

    A broker formatted before modes were recorded is plain.
    """
    try:
        return _mode_path(files).read_text("utf-8").strip() or "plain"
    except OSError:
        return "plain" if files.is_formatted() else None


def check_mode(files: BrokerFiles, secure: bool) -> None:
    """A one-line :class:`BrokerError` if the broker was formatted the other way."""
    found = recorded_mode(files)
    wanted = "secure" if secure else "plain"
    if found is not None and found != wanted:
        how = "with --secure" if found == "secure" else "without --secure"
        raise BrokerError(
            f"the broker in {files.dir} was set up {found}: start it {how}, or remove "
            f"{files.dir} to start afresh {wanted} (its topics are lost)"
        )


def record_mode(files: BrokerFiles, secure: bool) -> None:
    """Remember how the storage was formatted (:func:`recorded_mode`)."""
    _mode_path(files).write_text(("secure" if secure else "plain") + "\n", "utf-8")


def secure_security(config: BrokerConfig, tls: TlsFiles, broker_password: str) -> dict[str, str]:
    """The template's listener parts for a secure broker (see the module's docstring)."""
    scram = f'{_SCRAM_LOGIN} required username="{BROKER_USER}" password="{broker_password}";'
    plain = (
        f'{_PLAIN_LOGIN} required username="{BROKER_USER}" password="{broker_password}" '
        f'user_{BROKER_USER}="{broker_password}";'
    )
    listeners = "\n".join(
        [
            f"listeners=SASL_SSL://127.0.0.1:{config.port},"
            f"CONTROLLER://127.0.0.1:{config.controller_port}",
            f"advertised.listeners=SASL_SSL://127.0.0.1:{config.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL",
            "inter.broker.listener.name=SASL_SSL",
            f"sasl.mechanism.inter.broker.protocol={SASL_MECHANISM}",
            "sasl.mechanism.controller.protocol=PLAIN",
            f"listener.name.sasl_ssl.sasl.enabled.mechanisms={SASL_MECHANISM}",
            f"listener.name.sasl_ssl.{SASL_MECHANISM.lower()}.sasl.jaas.config={scram}",
            "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
            f"listener.name.controller.plain.sasl.jaas.config={plain}",
        ]
    )
    security = "\n".join(
        [
            "",
            "############################# Security (yujing broker start --secure) #######",
            "# TLS on every listener, from the PEM files of the broker's own CA.",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={tls.keystore}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={tls.ca_cert}",
            "ssl.client.auth=none",
            "# Nothing without an ACL, but for the super users: admin and the broker itself.",
            f"authorizer.class.name={_AUTHORIZER}",
            f"super.users=User:admin;User:{BROKER_USER}",
            "allow.everyone.if.no.acl.found=false",
            "",
        ]
    )
    return {"listeners": listeners, "auto_create_topics": "false", "security": security}


def secrets_lines(bootstrap: str, user: str, password: str, cafile: Path) -> str:
    """The contents of ``<home>/secrets/<user>.env``: what a client needs, nothing else."""
    return "".join(
        f"{key}={value}\n"
        for key, value in (
            ("YUJING_KAFKA_BOOTSTRAP", bootstrap),
            ("YUJING_KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
            ("YUJING_KAFKA_SASL_MECHANISM", SASL_MECHANISM),
            ("YUJING_KAFKA_SASL_USERNAME", user),
            ("YUJING_KAFKA_SASL_PASSWORD", password),
            ("YUJING_KAFKA_SSL_CAFILE", cafile.resolve()),
        )
    )


class SecureBroker:
    """The secure parts of one home's single broker: its files, users and ACLs."""

    def __init__(self, config: BrokerConfig, files: BrokerFiles) -> None:
        self.config = config
        self.files = files
        self.dir = files.dir / "secure"
        self.tls = TlsFiles(self.dir)
        self.passwords_path = self.dir / "passwords.env"
        self.secrets_dir = config.home / "secrets"

    def passwords(self) -> dict[str, str]:
        """Every user's password, ``broker`` included; made on the first start only."""
        try:
            text = self.passwords_path.read_text("utf-8")
        except FileNotFoundError:
            if self.files.is_formatted():
                raise BrokerError(
                    f"the secure broker's passwords ({self.passwords_path}) are gone: remove "
                    f"{self.files.dir} to start afresh (its topics are lost)"
                ) from None
            made = {user: secrets.token_urlsafe(24) for user in (*USERS, BROKER_USER)}
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_private(self.passwords_path, "".join(f"{u}={p}\n" for u, p in made.items()))
            return made
        found = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        missing = [u for u in (*USERS, BROKER_USER) if not found.get(u)]
        if missing:
            raise BrokerError(
                f"{self.passwords_path} has no password for {', '.join(missing)}: remove "
                f"{self.files.dir} to start afresh"
            )
        return found

    def prepare(self) -> dict[str, str]:
        """Certificates and passwords in place; the template parts to start with."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        ensure_certificates(self.dir)
        return secure_security(self.config, self.tls, self.passwords()[BROKER_USER])

    def scram_credentials(self) -> list[str]:
        """``--add-scram`` values for every user, for the storage tool (secrets)."""
        return [
            f"{SASL_MECHANISM}=[name={user},password={password}]"
            for user, password in self.passwords().items()
        ]

    def login(self, user: str = "admin") -> Login:
        """How ``user`` logs in (the probe and the ACLs use ``admin``)."""
        return Login(user, self.passwords()[user], self.tls.ca_cert)

    def write_secrets(self) -> Path:
        """``<home>/secrets/<user>.env`` for every user (0600); returns the directory."""
        self.secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        passwords = self.passwords()
        for user in USERS:
            write_private(
                self.secrets_dir / f"{user}.env",
                secrets_lines(self.config.bootstrap, user, passwords[user], self.tls.ca_cert),
            )
        return self.secrets_dir

    def apply_acls(self, naming: Naming) -> None:
        """Make the ACLs of the users match :func:`acl_plan`, as ``admin``."""
        from streams.dev.broker.acl_admin import sync_acls

        sync_acls(self.config.bootstrap, self.login("admin"), acl_plan(naming))
