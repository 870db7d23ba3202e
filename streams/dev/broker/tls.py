"""The secure local broker's certificates: a CA of its own and a broker certificate it signs.

Where this sits: development infrastructure, not in the event flow. ``yujing broker
start --secure`` (:mod:`~streams.dev.broker.secure`) serves its clients over TLS; this
module makes, once, the certificates it needs, in Python (the ``cryptography``
package), so no ``openssl`` or ``keytool`` is needed:

* ``ca.pem``: the CA certificate clients trust (``YUJING_KAFKA_SSL_CAFILE``);
* ``ca-key.pem``: the CA's private key, mode 0600, never leaving the state directory;
* ``broker.pem``: the broker's private key (PKCS#8) followed by its certificate and the
  CA's, mode 0600: a PEM key store as Kafka reads it (``ssl.keystore.type=PEM``). Its
  names are ``127.0.0.1`` and ``localhost``, the only addresses the broker listens on.

Kept files are reused on every start; a broker certificate that is missing or expires
within :data:`RENEW_BEFORE` is issued again by the kept CA, so clients keep trusting it.
Keys are EC P-256: quick to make, and read by Java, OpenSSL and Python alike.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from streams.dev.broker.files import write_private

__all__ = ["CA_DAYS", "CERT_DAYS", "RENEW_BEFORE", "TlsFiles", "ensure_certificates"]

#: How long the CA and a broker certificate are valid, and when the latter is renewed.
CA_DAYS = 3650
CERT_DAYS = 825
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of one secure broker, in ``directory``."""

    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def keystore(self) -> Path:
        return self.directory / "broker.pem"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_pem(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _new_ca(files: TlsFiles) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "yujing local broker CA")])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(files.ca_key, _key_pem(key).decode())
    files.ca_cert.write_text(cert.public_bytes(serialization.Encoding.PEM).decode(), "ascii")


def _new_broker_cert(files: TlsFiles) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=CERT_DAYS), ca_cert.not_valid_after_utc))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + files.ca_cert.read_bytes()
    write_private(files.keystore, (_key_pem(key) + chain).decode())


def _broker_cert_current(files: TlsFiles) -> bool:
    """Is there a broker certificate, valid beyond :data:`RENEW_BEFORE` from now?"""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(files.keystore.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.not_valid_after_utc - _now() > RENEW_BEFORE


def ensure_certificates(directory: Path) -> TlsFiles:
    """The CA and broker certificate in ``directory``, made where missing (see above).

    Returns their paths. The directory is made private (0700) if it is new.
    """
    files = TlsFiles(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not (files.ca_cert.is_file() and files.ca_key.is_file()):
        _new_ca(files)
        _new_broker_cert(files)
    elif not _broker_cert_current(files):
        _new_broker_cert(files)
    return files
