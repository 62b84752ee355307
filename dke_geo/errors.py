"""User-facing errors: each carries a strings-table key and values, so the UI shows it in the user's
language and never a stack trace."""
from __future__ import annotations

from pydantic import ValidationError

from dke_geo.i18n import t


class DkeError(Exception):
    """An error a user can act on. `key` is a strings-table key, `values` fill its placeholders."""

    key = "error.invalid"

    def __init__(self, key: str | None = None, /, **values):
        self.key = key or self.key
        self.values = values
        super().__init__(self.message("en"))

    def message(self, lang: str = "da") -> str:
        return t(self.key, lang, **self.values)


class InvalidInput(DkeError):
    """Input refused by validation; `messages(lang)` names each field."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("error.invalid", message="; ".join(self.messages("en")))

    def messages(self, lang: str = "da") -> list[str]:
        return [_one_message(e, lang) for e in self.errors]

    def message(self, lang: str = "da") -> str:
        return " ".join(self.messages(lang))

    @classmethod
    def from_pydantic(cls, exc: ValidationError) -> InvalidInput:
        return cls([{"type": e["type"], "loc": e["loc"], "ctx": dict(e.get("ctx") or {}), "msg": e["msg"]}
                    for e in exc.errors()])


class PermissionDenied(DkeError):
    key = "error.permission"

    def message(self, lang: str = "da") -> str:
        return t(self.key, lang, role=t(f"role.{self.values['role']}", lang),
                 action=t(f"permission.{self.values['permission']}", lang))


class NotFound(DkeError):
    key = "error.not_found"


class Conflict(DkeError):
    """A change made on stale data (someone else changed it first)."""


class DatabaseUnavailable(DkeError):
    """The database cannot be reached (PostGIS down, disk gone): nothing was written."""
    key = "app.error_db"


class DatabaseBusy(DkeError):
    """Another writer held the data longer than the store's lock wait (a very large import, say), or PostgreSQL
    ended this transaction to break a deadlock: nothing was written, and saving the same form again is safe
    (findings carry the id their form was opened with)."""
    key = "reliability.db_busy"


class DatabaseFileRefused(DkeError):
    """A file named for an import, an export, a report or a backup is the database itself or one of its companion
    files: refused before anything opens it (AppContext.refuse_database_file)."""
    key = "reliability.database_file"


_BUILTIN = {"missing": "error.required", "string_too_short": "error.required"}


def _one_message(err: dict, lang: str) -> str:
    field = str(err["loc"][0]) if err["loc"] else ""
    ctx = err.get("ctx") or {}
    key = f"error.{err['type']}"
    try:
        text = t(key, lang, **ctx)
    except KeyError:
        builtin = _BUILTIN.get(err["type"])
        text = t(builtin, lang) if builtin else t("error.invalid", lang, message=err["msg"])
    if key in ("error.outside_municipality", "error.swapped_coordinates", "error.end_before_start"):
        return text  # these name the place or times themselves
    try:
        label = t(f"field.{field}", lang)
    except KeyError:
        label = field
    return f"{label}: {text}" if label else text
