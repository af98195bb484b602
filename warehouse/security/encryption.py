"""Encrypting backup files with FUNDFLOW_DB_KEY (AES-256-GCM from ``cryptography``).

Why not DuckDB's own database encryption: DuckDB 2.0 writes an encrypted database (or Parquet
file) securely only with the httpfs extension's OpenSSL loaded; without it, it refuses, or
writes with a build it itself calls "NOT securely encrypted". Extensions cannot be downloaded
here and the httpfs wheel on PyPI is built for DuckDB 1.5, so the warehouse and serving files
stay unencrypted (docs/security.md) and backups, the copies that travel, are encrypted here.

Format of an encrypted file: a header line, then chunks (4-byte length, 12-byte random nonce,
ciphertext+tag). Each chunk's associated data binds the file's name, the chunk's index and
whether it is the last, so a reordered, swapped or truncated file fails to decrypt. The key is
derived from FUNDFLOW_DB_KEY with scrypt and a per-backup random salt (kept in the manifest).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"FUNDFLOW-AES256GCM-1\n"
CHUNK_BYTES = 4 * 1024 * 1024


class DecryptionError(ValueError):
    """Wrong key, or a damaged, truncated or swapped encrypted file."""


def new_salt() -> bytes:
    return os.urandom(16)


def derive_key(passphrase: str, salt: bytes) -> bytes:
    if not passphrase:
        raise ValueError("FUNDFLOW_DB_KEY is empty")
    return Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(passphrase.encode("utf-8"))


def _aad(name: str, index: int, last: bool) -> bytes:
    return f"{name}|{index}|{int(last)}".encode("utf-8")


def encrypt_file(source: Path, target: Path, key: bytes, name: str) -> None:
    aead = AESGCM(key)
    size = source.stat().st_size
    with open(source, "rb") as plain, open(target, "wb") as out:
        out.write(MAGIC)
        index, done = 0, 0
        while True:
            chunk = plain.read(CHUNK_BYTES)
            done += len(chunk)
            last = done >= size
            nonce = os.urandom(12)
            sealed = aead.encrypt(nonce, chunk, _aad(name, index, last))
            out.write(struct.pack(">I", len(sealed)) + nonce + sealed)
            index += 1
            if last:
                break


def decrypt_file(source: Path, target: Path, key: bytes, name: str) -> None:
    aead = AESGCM(key)
    with open(source, "rb") as sealed_file, open(target, "wb") as out:
        if sealed_file.read(len(MAGIC)) != MAGIC:
            raise DecryptionError(f"{source.name} is not a fundflow encrypted file")
        index = 0
        header = sealed_file.read(4)
        while header:
            if len(header) != 4:
                raise DecryptionError(f"{source.name} is truncated")
            (length,) = struct.unpack(">I", header)
            nonce = sealed_file.read(12)
            sealed = sealed_file.read(length)
            if len(nonce) != 12 or len(sealed) != length:
                raise DecryptionError(f"{source.name} is truncated")
            header = sealed_file.read(4)
            try:
                out.write(aead.decrypt(nonce, sealed, _aad(name, index, last=not header)))
            except InvalidTag:
                raise DecryptionError(
                    f"{source.name}: chunk {index} does not decrypt (wrong FUNDFLOW_DB_KEY, or the file was "
                    "altered, truncated or swapped)") from None
            index += 1
        if index == 0:
            raise DecryptionError(f"{source.name} is empty")
