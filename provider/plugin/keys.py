"""Handing our certificate and private key to OpenSSL without ever writing them to a disk.

Python's ``ssl`` takes a certificate chain and key only as file names (``load_cert_chain``),
and OpenSSL opens and reads those files itself. So each way here gives OpenSSL a name that
leads to memory, never to a regular file, not even briefly:

- ``memfd``: an anonymous memory file (Linux), opened again as ``/dev/fd/N``; it is seekable,
  so one file holds both the key and the certificate;
- ``pipes``: one pipe for the certificate and one for the key, each filled and closed for
  writing before OpenSSL opens ``/dev/fd/N`` (macOS, BSDs). A pipe cannot seek, and OpenSSL
  reads the certificate file and the key file once each but a combined file twice ("Illegal
  seek"), hence two. Both PEMs are filled before loading, so they must fit a pipe's buffer
  (16 KiB at the least on macOS, 64 KiB on Linux; ours are about 1 KiB);
- ``memory``: no name at all, the PEMs are parsed into the ``SSL_CTX`` through OpenSSL's API
  (``openssl_memory``), where there is no ``/dev/fd`` (Windows).
"""

from __future__ import annotations

import os
import ssl

from . import platform_paths

PIPE_SAFE_BYTES = 16 * 1024  # the smallest pipe buffer of the platforms we serve on


def load_identity(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes, way: str) -> None:
    """Loads ``cert_pem`` and ``key_pem`` into ``ctx`` the ``way`` ``platform_paths`` chose."""
    if way == platform_paths.KEY_MEMFD:
        _by_memfd(ctx, cert_pem, key_pem)
    elif way == platform_paths.KEY_PIPES:
        _by_pipes(ctx, cert_pem, key_pem)
    elif way == platform_paths.KEY_MEMORY:
        from . import openssl_memory

        openssl_memory.load_identity(ctx, cert_pem, key_pem)
    else:
        raise ValueError(f"unknown way to load a key: {way!r}")


def _by_memfd(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    fd = os.memfd_create("plugin-identity", os.MFD_CLOEXEC)
    try:
        os.write(fd, key_pem + cert_pem)
        ctx.load_cert_chain(f"{platform_paths.FD_DIR}/{fd}")
    finally:
        os.close(fd)


def _by_pipes(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    opened: list[int] = []
    try:
        cert_fd = _filled_pipe(cert_pem, opened)
        key_fd = _filled_pipe(key_pem, opened)
        fd_dir = platform_paths.FD_DIR
        ctx.load_cert_chain(f"{fd_dir}/{cert_fd}", f"{fd_dir}/{key_fd}")
    finally:
        for fd in opened:
            os.close(fd)


def _filled_pipe(data: bytes, opened: list[int]) -> int:
    """A pipe's read end holding all of ``data``, its write end already closed (so OpenSSL
    reads to the end without waiting for anyone)."""
    if len(data) > PIPE_SAFE_BYTES:  # a fuller pipe would block this write for ever
        raise ValueError(f"{len(data)} bytes do not fit a pipe's buffer")
    read_end, write_end = os.pipe()
    opened.append(read_end)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view) :]
    finally:
        os.close(write_end)
    return read_end
