"""Who may change the atlas: one editor password, stored as a salted scrypt hash in the user config.

Importing, replacing, restoring and removing change what every viewer sees, so the Import page
asks for the password (:func:`check_editor_password`); without one configured it is read-only.
Attempts are counted per session by :class:`AttemptLimiter`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from planatlas.errors import PlanAtlasError
from planatlas.imports.overlay import write_text_atomic

EDITOR_FILE = "editor.json"
#: scrypt cost: 2**15 blocks of 8 × 128 bytes (32 MiB, about 0.1 s): slow to guess, quick to check once.
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024


class EditorConfigError(PlanAtlasError, ValueError):
    """The editor configuration cannot be read or the password is not acceptable."""


def _hash(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32)


def set_editor_password(config_dir: Path, password: str) -> Path:
    """Store a salted hash of ``password`` (never the password); returns the file written (mode 0600)."""
    if len(password) < 8:
        msg = "the editor password should have at least 8 characters"
        raise EditorConfigError(msg)
    salt = secrets.token_bytes(16)
    record = {
        "scheme": "scrypt",
        "n": _N,
        "r": _R,
        "p": _P,
        "salt": base64.b64encode(salt).decode("ascii"),
        "hash": base64.b64encode(_hash(password, salt, _N, _R, _P)).decode("ascii"),
    }
    path = config_dir / EDITOR_FILE
    write_text_atomic(path, json.dumps(record, indent=2))
    path.chmod(0o600)
    return path


def clear_editor_password(config_dir: Path) -> bool:
    """Remove the stored hash; whether there was one."""
    path = config_dir / EDITOR_FILE
    if path.is_file():
        path.unlink()
        return True
    return False


def editor_configured(config_dir: Path) -> bool:
    """Whether an editor password is set (imports are off otherwise)."""
    return (config_dir / EDITOR_FILE).is_file()


def check_editor_password(config_dir: Path, password: str) -> bool:
    """Whether ``password`` is the editor's (constant-time comparison); ``False`` when none is set."""
    path = config_dir / EDITOR_FILE
    if not path.is_file():
        return False
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        salt = base64.b64decode(record["salt"])
        expected = base64.b64decode(record["hash"])
        n, r, p = int(record["n"]), int(record["r"]), int(record["p"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = f"{path}: the editor configuration cannot be read ({exc}); set the password again"
        raise EditorConfigError(msg) from exc
    return hmac.compare_digest(_hash(password, salt, n, r, p), expected)


@dataclass
class AttemptLimiter:
    """At most ``limit`` wrong passwords per ``window_s`` seconds; then a wait until the oldest expires."""

    limit: int = 5
    window_s: float = 300.0
    failures: list[float] = field(default_factory=list)

    def wait_s(self, now: float | None = None) -> float:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic() if now is None else now
        self.failures = [t for t in self.failures if now - t < self.window_s]
        if len(self.failures) < self.limit:
            return 0.0
        return self.window_s - (now - self.failures[0])

    def failed(self, now: float | None = None) -> None:
        self.failures.append(time.monotonic() if now is None else now)
