"""The hand-encoded AutoMTLS certificate, read back by an independent X.509 parser."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from terraform_provider_connectly.plugin import certificate

NOW = datetime.datetime(2026, 11, 24, 12, 0, 0, tzinfo=datetime.UTC)


def test_certificate_has_go_plugins_shape_and_a_valid_signature() -> None:
    identity = certificate.make_identity(NOW)
    cert = x509.load_der_x509_certificate(identity.cert_der)

    assert cert.version is x509.Version.v3
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "localhost"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "HashiCorp"
    assert cert.serial_number > 0
    assert cert.not_valid_before_utc == NOW - datetime.timedelta(seconds=30)
    assert cert.not_valid_after_utc == NOW + datetime.timedelta(days=365)

    exts = cert.extensions
    san = exts.get_extension_for_class(x509.SubjectAlternativeName)
    assert not san.critical
    assert san.value.get_values_for_type(x509.DNSName) == ["localhost"]
    basic = exts.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca is True and basic.value.path_length is None
    usage = exts.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and usage.value.key_encipherment
    assert usage.value.key_agreement and usage.value.key_cert_sign
    assert not usage.value.crl_sign and not usage.value.content_commitment
    assert not usage.value.data_encipherment
    eku = exts.get_extension_for_class(x509.ExtendedKeyUsage)
    assert set(eku.value) == {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH}
    assert len(exts) == 4

    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert isinstance(public.curve, ec.SECP256R1)
    public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha256"


def test_key_matches_certificate_and_pem_forms_round_trip(tmp_path: Path) -> None:
    identity = certificate.make_identity()
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert = x509.load_pem_x509_certificate(identity.cert_pem)
    assert cert.public_bytes(serialization.Encoding.DER) == identity.cert_der
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert key.public_key().public_numbers() == public.public_numbers()
    # OpenSSL (the TLS front) takes the pair as it is given to it.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    path = tmp_path / "pair.pem"
    path.write_bytes(identity.key_pem + identity.cert_pem)
    ctx.load_cert_chain(str(path))


def test_each_identity_is_fresh() -> None:
    a, b = certificate.make_identity(), certificate.make_identity()
    assert a.key_pem != b.key_pem
    ca = x509.load_der_x509_certificate(a.cert_der)
    cb = x509.load_der_x509_certificate(b.cert_der)
    assert ca.serial_number != cb.serial_number


def test_handshake_field_is_unpadded_base64_of_the_der() -> None:
    import base64

    identity = certificate.make_identity()
    field = identity.handshake_field()
    assert "=" not in field and "\n" not in field
    assert base64.b64decode(field + "=" * (-len(field) % 4)) == identity.cert_der


@pytest.mark.parametrize(
    ("moment", "encoded"),
    [
        (
            datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=datetime.UTC),
            b"\x17\x0d491231235959Z",
        ),
        (datetime.datetime(2050, 1, 1, 0, 0, 0, tzinfo=datetime.UTC), b"\x18\x0f20500101000000Z"),
    ],
)
def test_times_switch_to_generalized_time_in_2050(
    moment: datetime.datetime, encoded: bytes
) -> None:
    assert certificate.asn1_time(moment) == encoded


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, "020100"), (127, "02017f"), (128, "02020080"), (256, "02020100")],
)
def test_integers_stay_positive(value: int, encoded: str) -> None:
    assert certificate.integer(value).hex() == encoded


def test_long_lengths_use_the_long_form() -> None:
    assert certificate.tlv(0x04, b"x" * 200)[:3] == bytes((0x04, 0x81, 200))
    assert certificate.tlv(0x04, b"x" * 300)[:4] == bytes((0x04, 0x82, 0x01, 0x2C))


def test_identity_repr_never_shows_the_key() -> None:
    identity = certificate.make_identity()
    assert "PRIVATE" not in repr(identity)
    assert identity.key_pem.decode() not in repr(identity)


def test_tbs_is_byte_for_byte_what_cryptography_builds() -> None:
    """The same key, serial and dates through cryptography's own builder give the same
    to-be-signed bytes: no field is encoded in a way a strict parser could object to."""
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()
    point = b"\x04" + numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")
    serial = 0x1234_5678_9ABC_DEF0_1122_3344_5566_7788
    before, after = NOW - datetime.timedelta(seconds=30), NOW + datetime.timedelta(days=365)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=True,
        key_cert_sign=True,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(before)
        .not_valid_after(after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    assert certificate.tbs_certificate(point, serial, before, after) == built.tbs_certificate_bytes


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        certificate.asn1_time(datetime.datetime(2030, 1, 1))
