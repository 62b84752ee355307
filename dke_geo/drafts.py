"""Unsaved findings kept on the server, one per user, so a reload or a closed tab on the tablet brings the form
back instead of an empty one (iOS Safari shows no leave warning), its photos included: a photo of something
that has since gone cannot be taken again.

A draft holds an internal note and photos, so it lives beside the database in the git-ignored data folder:
`drafts/<user key>.json` and the photos in `drafts/<user key>/`, named by their content, so a rerun that keeps
the same photos writes nothing. Only photos that pass the photo checks are kept (`photos.check`): a refused file
would otherwise come back after every reload and block the save.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from dke_geo import config, private_files
from dke_geo.photos import PhotoError, Upload, check


def _path(user: str) -> Path:
    return config.data_dir() / "drafts" / f"{hashlib.sha256(user.encode()).hexdigest()[:32]}.json"


def _photo_folder(user: str) -> Path:
    return _path(user).with_suffix("")


def save(user: str, draft: dict, photos: Sequence[Upload] = ()) -> None:
    """Keep `draft` (plain JSON values) and those of `photos` that pass the photo checks for `user`, replacing the
    last ones atomically. A refused file (not an image, too large, too many pixels) is left out: the form names it,
    and nothing is kept on the server that saving would refuse."""
    path, folder = _path(user), _photo_folder(user)
    kept = []
    for photo in photos:
        digest = hashlib.sha256(photo.data).hexdigest()
        if not (folder / digest).exists():  # kept on an earlier rerun: it passed the checks then
            try:
                check(photo)
            except PhotoError:
                continue
            _write_atomic(folder / digest, photo.data)
        kept.append({"file": digest, "name": photo.name})
    _write_atomic(path, json.dumps({**draft, "photos": kept}, ensure_ascii=False).encode())
    wanted = {k["file"] for k in kept}
    for stale in folder.glob("*") if folder.is_dir() else ():
        if stale.name not in wanted:
            stale.unlink(missing_ok=True)


def load(user: str) -> dict | None:
    """The user's kept draft, or None (a damaged file counts as none)."""
    try:
        return json.loads(_path(user).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def photos(user: str, draft: dict) -> list[Upload]:
    """The photos kept with `draft` (one lost from the disk is left out)."""
    folder, out = _photo_folder(user), []
    for kept in draft.get("photos", []):
        try:
            out.append(Upload(kept["name"], (folder / Path(kept["file"]).name).read_bytes()))
        except (OSError, KeyError, TypeError):
            continue
    return out


def clear(user: str) -> None:
    _path(user).unlink(missing_ok=True)
    shutil.rmtree(_photo_folder(user), ignore_errors=True)


STALE_DAYS = 30
"""A draft nobody came back to for this long is removed (`sweep`, run by `init-db` at every start): its walk is long
over, and an internal note or photo of people must not be kept without a purpose."""


def sweep(older_than_days: float = STALE_DAYS) -> int:
    """Remove every draft (with its photos) not saved for `older_than_days`; return how many."""
    cutoff = time.time() - older_than_days * 86400
    stale = [p for p in (config.data_dir() / "drafts").glob("*.json") if p.stat().st_mtime < cutoff]
    for path in stale:
        path.unlink(missing_ok=True)
        shutil.rmtree(path.with_suffix(""), ignore_errors=True)
    return len(stale)


def _write_atomic(path: Path, data: bytes) -> None:
    private_files.make_folder(path.parent)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".tmp", delete=False) as f:  # mode 0600
        f.write(data)
    os.replace(f.name, path)
