"""Unsaved findings kept on the server, one per user, so a reload or a closed tab on the tablet brings the form
back instead of an empty one (iOS Safari shows no leave warning). Photos are not kept: they are attached again.

A draft holds an internal note, so it lives beside the database in the git-ignored data folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from dke_geo import config


def _path(user: str) -> Path:
    return config.data_dir() / "drafts" / f"{hashlib.sha256(user.encode()).hexdigest()[:32]}.json"


def save(user: str, draft: dict) -> None:
    """Keep `draft` (plain JSON values) for `user`, replacing the last one atomically."""
    path = _path(user)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as f:
        json.dump(draft, f, ensure_ascii=False)
    os.replace(f.name, path)


def load(user: str) -> dict | None:
    """The user's kept draft, or None (a damaged file counts as none)."""
    try:
        return json.loads(_path(user).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def clear(user: str) -> None:
    _path(user).unlink(missing_ok=True)
