"""The provider's own key and self-signed certificate for go-plugin's AutoMTLS.

Terraform starts the provider three to five times per command, and each start makes a fresh
key and certificate. ``cryptography``'s X.509 builder would cost ~20 ms of imports per start,
more than everything else in this module together, so the certificate is encoded here in DER
by hand (it is one fixed shape) and only the key pair and the ECDSA signature come from
``cryptography``. ``tests/test_certificate.py`` parses the result with ``cryptography.x509``.
"""

from __future__ import annotations

import base64
import datetime
import os
from dataclasses import dataclass, field

# Object identifiers, already DER-encoded (tag 06, length, value).
OID_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")  # 1.2.840.10045.2.1
OID_P256 = bytes.fromhex("06082a8648ce3d030107")  # 1.2.840.10045.3.1.7 (prime256v1)
OID_ECDSA_SHA256 = bytes.fromhex("06082a8648ce3d040302")  # 1.2.840.10045.4.3.2
OID_ORGANIZATION = bytes.fromhex("060355040a")  # 2.5.4.10
OID_COMMON_NAME = bytes.fromhex("0603550403")  # 2.5.4.3
OID_SUBJECT_ALT_NAME = bytes.fromhex("0603551d11")  # 2.5.29.17
OID_BASIC_CONSTRAINTS = bytes.fromhex("0603551d13")  # 2.5.29.19
OID_KEY_USAGE = bytes.fromhex("0603551d0f")  # 2.5.29.15
OID_EXT_KEY_USAGE = bytes.fromhex("0603551d25")  # 2.5.29.37
OID_SERVER_AUTH = bytes.fromhex("06082b06010505070301")  # 1.3.6.1.5.5.7.3.1
OID_CLIENT_AUTH = bytes.fromhex("06082b06010505070302")  # 1.3.6.1.5.5.7.3.2

VALIDITY = datetime.timedelta(days=365)
BACKDATE = datetime.timedelta(seconds=30)  # as go-plugin does: valid already, to the second


@dataclass(frozen=True)
class Identity:
    cert_der: bytes
    cert_pem: bytes
    key_pem: bytes = field(repr=False)  # never in a log line or a traceback

    def handshake_field(self) -> str:
        """The certificate as go-plugin reads it: DER in base64 without padding."""
        return base64.b64encode(self.cert_der).decode().rstrip("=")


def make_identity(now: datetime.datetime | None = None) -> Identity:
    """A fresh P-256 key and a self-signed certificate in go-plugin's shape: O ``HashiCorp``,
    CN and SAN DNS ``localhost``, a CA, server and client auth, valid from a little before
    ``now`` (UTC)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.private_numbers()
    point = b"\x04" + _int32(numbers.public_numbers.x) + _int32(numbers.public_numbers.y)
    now = now or datetime.datetime.now(datetime.UTC)
    tbs = tbs_certificate(point, _serial(), now - BACKDATE, now + VALIDITY)
    signature = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    cert = seq(tbs + seq(OID_ECDSA_SHA256) + bit_string(signature))
    return Identity(
        cert_der=cert,
        cert_pem=pem("CERTIFICATE", cert),
        key_pem=pem("PRIVATE KEY", pkcs8_private_key(numbers.private_value, point)),
    )


def tbs_certificate(
    point: bytes, serial: int, not_before: datetime.datetime, not_after: datetime.datetime
) -> bytes:
    """The to-be-signed part of the certificate (RFC 5280, section 4.1)."""
    name = seq(rdn(OID_ORGANIZATION, utf8("HashiCorp")) + rdn(OID_COMMON_NAME, utf8("localhost")))
    extensions = (
        extension(OID_SUBJECT_ALT_NAME, seq(tlv(0x82, b"localhost")))  # dNSName
        + extension(OID_BASIC_CONSTRAINTS, seq(tlv(0x01, b"\xff")), critical=True)  # cA
        # digitalSignature, keyEncipherment, keyAgreement, keyCertSign: bits 0, 2, 4, 5.
        + extension(OID_KEY_USAGE, tlv(0x03, b"\x02\xac"), critical=True)
        + extension(OID_EXT_KEY_USAGE, seq(OID_CLIENT_AUTH + OID_SERVER_AUTH))
    )
    return seq(
        tlv(0xA0, integer(2))  # version v3
        + integer(serial)
        + seq(OID_ECDSA_SHA256)
        + name
        + seq(asn1_time(not_before) + asn1_time(not_after))
        + name
        + subject_public_key_info(point)
        + tlv(0xA3, seq(extensions))
    )


def subject_public_key_info(point: bytes) -> bytes:
    return seq(seq(OID_EC_PUBLIC_KEY + OID_P256) + bit_string(point))


def pkcs8_private_key(private_value: int, point: bytes) -> bytes:
    """PKCS #8 PrivateKeyInfo wrapping an RFC 5915 ECPrivateKey (curve named outside)."""
    ec_private_key = seq(
        integer(1) + tlv(0x04, _int32(private_value)) + tlv(0xA1, bit_string(point))
    )
    return seq(integer(0) + seq(OID_EC_PUBLIC_KEY + OID_P256) + tlv(0x04, ec_private_key))


# -- DER ---------------------------------------------------------------------------------------


def tlv(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        return bytes((tag, n)) + value
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + value


def seq(value: bytes) -> bytes:
    return tlv(0x30, value)


def integer(value: int) -> bytes:
    """A non-negative INTEGER, with the leading zero byte that keeps it positive."""
    return tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def bit_string(value: bytes) -> bytes:
    return tlv(0x03, b"\x00" + value)


def utf8(text: str) -> bytes:
    return tlv(0x0C, text.encode())


def rdn(oid: bytes, value: bytes) -> bytes:
    return tlv(0x31, seq(oid + value))


def extension(oid: bytes, value: bytes, critical: bool = False) -> bytes:
    return seq(oid + (tlv(0x01, b"\xff") if critical else b"") + tlv(0x04, value))


def asn1_time(moment: datetime.datetime) -> bytes:
    """UTCTime up to 2049, GeneralizedTime after, as RFC 5280 requires."""
    if moment.tzinfo is None:
        raise ValueError("certificate times must be timezone-aware")
    moment = moment.astimezone(datetime.UTC)
    if moment.year < 2050:
        return tlv(0x17, moment.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())


def pem(label: str, der: bytes) -> bytes:
    body = base64.b64encode(der)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        b"\n".join([f"-----BEGIN {label}-----".encode(), *lines, f"-----END {label}-----".encode()])
        + b"\n"
    )


def _int32(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _serial() -> int:
    """A random positive 127-bit serial number, never zero."""
    return (int.from_bytes(os.urandom(16), "big") >> 1) | 1
