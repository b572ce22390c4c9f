"""Our certificate and key parsed straight into an ``ssl.SSLContext``, through OpenSSL's API.

Where there is no ``/dev/fd`` (Windows), no file name can lead OpenSSL to memory, and
``ssl.SSLContext.load_cert_chain`` takes nothing but file names. OpenSSL itself takes a key
from memory (``PEM_read_bio_PrivateKey`` on a memory ``BIO``, then
``SSL_CTX_use_PrivateKey``), so this module calls those functions with ``ctypes`` on the
``SSL_CTX`` that the context wraps, in the very OpenSSL that Python's ``_ssl`` uses.

Two facts of CPython this relies on, each checked before it is trusted:

- the ``SSL_CTX *`` is the first field after the object header of an ``_ssl._SSLContext``
  (true of every CPython 3 release): checked by reading the verify mode back through OpenSSL
  after setting it from Python, both ways;
- OpenSSL's functions are reachable from the ``_ssl`` extension: on POSIX its handle resolves
  its dependencies' symbols; on Windows the ``libssl-*.dll`` and ``libcrypto-*.dll`` beside
  ``_ssl.pyd`` are the ones it loaded.

The PEM bytes are copied into one buffer that is zeroed once OpenSSL has parsed it.
"""

from __future__ import annotations

import ctypes
import glob
import os
import ssl
from functools import cache
from typing import Any

_P = ctypes.c_void_p

# name: (result type, argument types); all in libssl or libcrypto of OpenSSL 1.1.1 and 3.
_FUNCTIONS: dict[str, tuple[Any, list[Any]]] = {
    "BIO_new_mem_buf": (_P, [_P, ctypes.c_int]),
    "BIO_free": (ctypes.c_int, [_P]),
    "PEM_read_bio_X509": (_P, [_P, _P, _P, _P]),
    "PEM_read_bio_PrivateKey": (_P, [_P, _P, _P, _P]),
    "X509_free": (None, [_P]),
    "EVP_PKEY_free": (None, [_P]),
    "SSL_CTX_use_certificate": (ctypes.c_int, [_P, _P]),
    "SSL_CTX_use_PrivateKey": (ctypes.c_int, [_P, _P]),
    "SSL_CTX_check_private_key": (ctypes.c_int, [_P]),
    "SSL_CTX_get_verify_mode": (ctypes.c_int, [_P]),
    "ERR_clear_error": (None, []),
}

# What Python's verify modes set in OpenSSL: SSL_VERIFY_PEER, plus FAIL_IF_NO_PEER_CERT.
_MODES = ((ssl.CERT_OPTIONAL, 0x01), (ssl.CERT_REQUIRED, 0x01 | 0x02))


class OpenSSLUnavailable(RuntimeError):
    """This Python's OpenSSL cannot be reached through ctypes."""


def load_identity(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    """What ``ctx.load_cert_chain`` does, from ``cert_pem`` and ``key_pem`` in memory."""
    lib = _openssl()
    handle = _ssl_ctx(ctx, lib)
    buf = ctypes.create_string_buffer(cert_pem + key_pem)
    try:
        cert = _read(lib, buf, 0, len(cert_pem), "PEM_read_bio_X509")
        try:
            if lib.SSL_CTX_use_certificate(handle, cert) != 1:
                raise _failed(lib, "the certificate")
        finally:
            lib.X509_free(cert)
        key = _read(lib, buf, len(cert_pem), len(key_pem), "PEM_read_bio_PrivateKey")
        try:
            if lib.SSL_CTX_use_PrivateKey(handle, key) != 1:
                raise _failed(lib, "the private key")
        finally:
            lib.EVP_PKEY_free(key)
        if lib.SSL_CTX_check_private_key(handle) != 1:
            raise _failed(lib, "a key that matches the certificate")
    finally:
        ctypes.memset(buf, 0, len(buf))


def _read(lib: Any, buf: ctypes.Array, start: int, size: int, reader: str) -> int:
    bio = lib.BIO_new_mem_buf(ctypes.addressof(buf) + start, size)
    if not bio:
        raise _failed(lib, "a memory buffer")
    try:
        parsed = getattr(lib, reader)(bio, None, None, None)
    finally:
        lib.BIO_free(bio)
    if not parsed:
        raise _failed(lib, "PEM data")
    return int(parsed)


def _failed(lib: Any, what: str) -> ssl.SSLError:
    lib.ERR_clear_error()
    return ssl.SSLError(f"OpenSSL did not accept {what}")


def _ssl_ctx(ctx: ssl.SSLContext, lib: Any) -> int:
    """The ``SSL_CTX *`` inside ``ctx``, once OpenSSL confirms it is one."""
    pointer = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if not pointer:
        raise OpenSSLUnavailable("no SSL_CTX in this ssl.SSLContext")
    saved = ctx.verify_mode
    try:
        for mode, expected in _MODES:
            ctx.verify_mode = mode
            if lib.SSL_CTX_get_verify_mode(pointer) != expected:
                raise OpenSSLUnavailable("this Python's ssl.SSLContext has an unknown layout")
    finally:
        ctx.verify_mode = saved
    return pointer


@cache
def _openssl() -> Any:
    """OpenSSL's functions, from the libraries Python's ``_ssl`` module runs on."""
    import _ssl

    where = getattr(_ssl, "__file__", None)
    if where is None:  # built into the interpreter: its symbols are the program's own
        candidates = [ctypes.CDLL(None)]
    elif os.name == "nt":
        folder = os.path.dirname(where)
        names = glob.glob(os.path.join(folder, "libssl*.dll"))
        names += glob.glob(os.path.join(folder, "libcrypto*.dll"))
        candidates = [ctypes.CDLL(name) for name in sorted(names)]
    else:
        candidates = [ctypes.CDLL(where)]

    class Lib:
        pass

    lib = Lib()
    for name, (restype, argtypes) in _FUNCTIONS.items():
        for candidate in candidates:
            function = getattr(candidate, name, None)
            if function is not None:
                function.restype = restype
                function.argtypes = argtypes
                setattr(lib, name, function)
                break
        else:
            raise OpenSSLUnavailable(f"OpenSSL's {name} is not reachable from Python's ssl")
    return lib
