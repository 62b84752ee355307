"""Files only their owner can read: folders 0700, files 0600.

The data folder holds the database, original photos whose EXIF carries the GPS position, drafts with internal
notes, the login secret; backups, exports and reports hold the same data. None of it is for the machine's other
users, so every such file is created with these modes from the start (never created readable and narrowed after),
and `tighten` narrows a data folder made before (`init-db` runs it at every start). SQLite gives its -wal and -shm
files the mode of the database file, so creating that file 0600 (`create_empty`) covers them too.

The static public site is the one output that stays readable by others: a web server must serve it.
"""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def make_folder(path: Path) -> Path:
    """`path` as a folder; each folder made here (it and any missing parents) is 0700. Returns `path`.

    >>> import tempfile; root = Path(tempfile.mkdtemp())
    >>> oct(make_folder(root / "a" / "b").stat().st_mode & 0o777), oct((root / "a").stat().st_mode & 0o777)
    ('0o700', '0o700')
    """
    path = Path(path)
    missing, level = [], path
    while not level.exists() and level != level.parent:
        missing.append(level)
        level = level.parent
    for folder in reversed(missing):
        with suppress(FileExistsError):  # another process made it at the same moment
            folder.mkdir(mode=FOLDER_MODE)
    return path


def open_private(path: Path, exclusive: bool = True) -> BinaryIO:
    """`path` opened for writing as a file 0600: a new one (`exclusive`), or emptied and narrowed to 0600."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # an existing file keeps its mode through O_CREAT
        return os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise


def create_empty(path: Path) -> None:
    """Create `path` as an empty file 0600 unless it exists (an empty file is an empty SQLite database)."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))


@contextmanager
def replacing(out: Path) -> Iterator[Path]:
    """A path to write the file `out` at, in a private temporary folder beside it; when the block ends without an
    error the file is made 0600 and renamed to `out` (replacing it), else it is removed and `out` is untouched.
    For files written by other libraries (GDAL, zip), which cannot be asked for a mode."""
    out = Path(out)
    make_folder(out.parent)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))  # 0700
    try:
        temp = folder / out.name
        yield temp
        temp.chmod(FILE_MODE)
        os.replace(temp, out)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_bytes(out: Path, data: bytes) -> None:
    """Write `data` to `out` as a file 0600, all or nothing (see `replacing`)."""
    with replacing(out) as temp, open_private(temp) as f:
        f.write(data)


def tighten(root: Path) -> int:
    """Make the folder `root` and every folder in it 0700 and every file 0600 (symbolic links are not followed);
    returns how many had wider modes. One this user does not own is left as it is."""
    root = Path(root)
    if not root.is_dir():
        return 0
    changed = 0
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            continue
        wanted = FOLDER_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
        if stat.S_IMODE(info.st_mode) != wanted:
            try:
                path.chmod(wanted)
            except PermissionError:
                continue
            changed += 1
    return changed
