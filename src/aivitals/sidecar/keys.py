"""The hashing key: where it lives (never in the store), and the keyed hashes made with it.

User keys and every id an event carries (event ids, prediction ids, incident ids,
alert fingerprints) reach the store only as keyed hashes under this key (HMAC-SHA256
for user keys, keyed BLAKE2b for ids), so an id that happens to be an email address
is not kept raw. The key itself lives outside the store, in ``$AIVITALS_USER_KEY_SECRET``,
the ``user_key_secret`` setting, or a key file (``<store>.key`` unless
``user_key_secret_file`` says otherwise): whoever copies the database alone cannot
recompute a guessable key's hash.

The store keeps a check value (an HMAC of a fixed text, which reveals nothing
about the key), so a missing or different key is an error at start rather than
silently new hashes that no longer match the stored ones.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from .settings import Settings, SettingsError, store_name
from .store import EventStore

log = logging.getLogger("aivitals.sidecar")

#: Environment variable holding the key (a Kubernetes Secret, a vault agent).
KEY_ENV = "AIVITALS_USER_KEY_SECRET"
#: Where stores before 0.x kept the key; moved out on first start.
LEGACY_META = "user_key_secret"
_CHECK_META = "key_check"
#: How the store holds ids: absent (raw, before ids were hashed), hex text, or 16-byte digests.
_IDS_META = "ids_hashed"
_IDS_HEX, _IDS_BINARY = b"1", b"2"
_CHECK_TEXT = b"aivitals hashing key check v1"
_BASE64 = "base64:"


def key_file(settings: Settings) -> Path:
    """The key file's path: the setting, else next to the store as ``<store>.key``."""
    return settings.user_key_secret_file or settings.store.with_name(settings.store.name + ".key")


def _from_text(text: str, where: str) -> bytes:
    text = text.strip()
    if text.startswith(_BASE64):
        try:
            return base64.b64decode(text[len(_BASE64):], validate=True)
        except binascii.Error:
            raise SettingsError(f"{where}: not valid base64 after 'base64:'") from None
    if len(text) < 16:
        raise SettingsError(f"{where}: the hashing key must be at least 16 characters")
    return text.encode("utf-8")


def _write_key_file(path: Path, text: str) -> None:
    """Create the key file readable by its owner only; an existing file is never overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())


def _configured(settings: Settings) -> tuple[bytes, str] | None:
    if settings.user_key_secret is not None:
        return _from_text(settings.user_key_secret, f"${KEY_ENV} / user_key_secret"), f"${KEY_ENV}"
    path = key_file(settings)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return _from_text(text, str(path)), str(path)


def hashing_key(settings: Settings, store: EventStore) -> bytes:
    """The key, checked against the store; created (with a warning) or moved out of a legacy store when absent.

    Raises SettingsError, naming the fix, when the key does not match the store's hashes.
    """
    if settings.store_url is not None and settings.user_key_secret is None and settings.user_key_secret_file is None:
        raise SettingsError(f"replicas sharing {store_name(settings)} need one hashing key: set ${KEY_ENV} "
                            "(from a Secret) or user_key_secret_file on every replica")
    found = _configured(settings)
    store.begin()
    try:  # read inside the transaction: replicas starting together on one database take turns here
        legacy, check = store.get_meta(LEGACY_META), store.get_meta(_CHECK_META)
        if found is None and legacy is not None:
            path = key_file(settings)
            _write_key_file(path, _BASE64 + base64.b64encode(legacy).decode("ascii"))
            log.warning("moved the hashing key out of the store into %s; back it up apart from the store", path)
            found = legacy, str(path)
        elif found is None and check is not None:
            raise SettingsError(f"the store {store_name(settings)} was written with a hashing key that is missing: "
                                f"restore {key_file(settings)} or set ${KEY_ENV}, or start a new store")
        elif found is None:
            path = key_file(settings)
            _write_key_file(path, secrets.token_urlsafe(32))
            log.warning("no hashing key was configured: generated %s (set $%s to supply one); keep it, or the "
                        "store's user keys and ids can no longer be matched", path, KEY_ENV)
            found = _configured(settings)
            assert found is not None
        key, where = found
        if legacy is not None and legacy != key:
            raise SettingsError(f"the store {store_name(settings)} holds the hashing key its hashes were made with, "
                                f"and {where} holds another: remove {where} to move the stored key out, or start a new "
                                "store")
        expected = hmac.digest(key, _CHECK_TEXT, hashlib.sha256)
        if check is not None and not hmac.compare_digest(check, expected):
            raise SettingsError(f"the hashing key in {where} is not the one the store {store_name(settings)} was "
                                "written with: restore that key, or start a new store")
        store.put_meta(_CHECK_META, expected)
        if legacy is not None:
            store.delete_meta(LEGACY_META)
        migrate = _migrate_ids(settings, store, key)
        store.commit()
    except BaseException:
        store.rollback()
        raise
    if migrate or legacy is not None:
        store.scrub()
    return key


def _migrate_ids(settings: Settings, store: EventStore, key: bytes) -> bool:
    """Bring the store's ids to 16-byte digests, inside the caller's transaction; True when raw ids were hashed.

    Idempotent through the meta value committed with the ids: an event acknowledged before
    the upgrade is found by its digest after it, so its retry is still a duplicate.
    """
    held = store.get_meta(_IDS_META)
    if held == _IDS_BINARY:
        return False
    if held is None:
        store.hash_ids(id_hasher(key))  # stores written before ids were hashed
    elif held == _IDS_HEX:
        store.binary_ids()  # stores written while ids were hex text
    else:
        raise SettingsError(f"the store {store_name(settings)} holds ids in a form this aivitals does not know "
                            "(written by a newer version): upgrade this sidecar")
    store.put_meta(_IDS_META, _IDS_BINARY)
    return held is None


def user_hasher(key: bytes) -> Callable[[str], bytes]:
    """HMAC-SHA256 of a user key: stable per key, useless without it.

    Each call copies an HMAC already keyed, rather than keying a new one: half the cost (0.8 against 1.4 µs).
    """
    keyed = hmac.new(key, digestmod="sha256")

    def digest(user: str) -> bytes:
        mac = keyed.copy()
        mac.update(user.encode("utf-8"))
        return mac.digest()

    return digest


def id_hasher(key: bytes) -> Callable[[str], bytes]:
    """An id as 16 bytes of keyed BLAKE2b under the key, apart from user keys (its own personalisation).

    Keyed BLAKE2b is a MAC like HMAC-SHA256 and cheaper; copying one already keyed halves it again
    (0.3 against 0.6 µs), which counts: every event id and prediction id is hashed on the writer thread.
    Bytes, not hex: half the size in the store's unique indexes, which hashed (random) ids make costly.
    """
    mac_key = hashlib.sha256(b"aivitals ids:" + key).digest()  # any key length, 32 bytes for BLAKE2b
    keyed = hashlib.blake2b(key=mac_key, digest_size=16, person=b"aivitals-ids")

    def digest(value: str) -> bytes:
        mac = keyed.copy()
        mac.update(value.encode("utf-8"))
        return mac.digest()

    return digest
