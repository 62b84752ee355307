"""The message builder: the e-mails to the responsible organisations and to DKE, as a subject, plain text and HTML,
rendered from the templates in dke_geo/templates/message_*.j2 in the recipient's language. Made only from
`notices.FixNotice` (what an organisation may see of a fix: the whitelist), never from a fix's internal fields;
this module reads no database. HTML is autoescaped (every text from the database is escaped); the plain text is
not HTML and is left as typed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from dke_geo import organisations
from dke_geo.categories import categories
from dke_geo.i18n import t
from dke_geo.model import TZ
from dke_geo.notices import LINK_DAYS, FixNotice, Kind

_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                         autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
                         undefined=StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                         lstrip_blocks=True)


@dataclass(frozen=True)
class Message:
    """One e-mail's content."""
    subject: str
    text: str
    html: str


def day(value: date | datetime | None, lang: str = "da") -> str:
    """A date as the messages write it: 1.12.2026 (none: "ingen"/"none")."""
    if value is None:
        return t("notify.label.none", lang)
    if isinstance(value, datetime):
        value = value.astimezone(TZ).date()
    return f"{value.day}.{value.month}.{value.year}"


def _render(name: str, lang: str, subject: str, **values) -> Message:
    cats = categories()
    helpers = {"t": lambda key, **v: t(key, lang, **v), "lang": lang, "subject": subject, "link_days": LINK_DAYS,
               "state": lambda s: t(f"fixes.state.{s}", lang), "day": lambda d: day(d, lang),
               "category": lambda c: cats[c].label(lang) if c in cats else c}
    return Message(subject=subject, text=_TEMPLATES.get_template(f"{name}.txt.j2").render(**helpers, **values),
                   html=_TEMPLATES.get_template(f"{name}.html.j2").render(**helpers, **values))


def _one_line(text: str) -> str:
    """A subject holds one line: line breaks in a title become spaces (a header cannot carry them)."""
    return " ".join(text.split())


def fix_message(kind: Kind, fix: FixNotice, organisation: str, lang: str, today: date,
                link: str | None = None, photos: int = 0) -> Message:
    """The message to `organisation` (its id) about one of its fixes: assigned, moved, new due date, moved
    elsewhere, reminder or overdue. `link`: its report-back link; `photos`: how many approved photos go with it.

    >>> from dke_geo.notices import Place
    >>> fix = FixNotice("f1", "Ny lampe <b>", "", "approved", "bo-vest", "driftschef", date(2026, 12, 8),
    ...                 (Place("Blokland", "lighting", 12.3573, 55.6602),), ())
    >>> m = fix_message(Kind.REMINDER, fix, "bo-vest", "da", date(2026, 12, 1), "https://x/report?t=a")
    >>> m.subject, "Ny lampe <b>" in m.text, "Ny lampe &lt;b&gt;" in m.html
    ('Påmindelse, frist 8.12.2026: Ny lampe <b>', True, True)
    """
    values = {"title": _one_line(fix.title), "state": t(f"fixes.state.{fix.state}", lang),
              "due": day(fix.due_date, lang)}
    subject = t(f"notify.subject.{kind.value}", lang, **values)
    return _render("message_fix", lang, subject, kind=kind.value, fix=fix, today=today, link=link, photos=photos,
                   organisation=organisations.label(organisation, lang),
                   intro=t(f"notify.intro.{kind.value}", lang, **values))


def digest(organisation: str, lang: str, week: str, today: date, open_fixes: list[FixNotice],
           verified: list[tuple[FixNotice, date]], links: dict[str, str]) -> Message:
    """The weekly digest for `organisation`: its open fixes (overdue first, with days overdue), and those verified
    in the last week. `links`: fix id -> its report-back link."""
    ordered = sorted(open_fixes, key=lambda f: (-f.days_overdue(today), f.due_date or date.max, f.title))
    return _render("message_digest", lang, t("notify.subject.digest", lang, week=week), week=week, today=today,
                   open=ordered, overdue=sum(1 for f in ordered if f.days_overdue(today)), verified=verified,
                   links=links, photos=0, organisation=organisations.label(organisation, lang))


def reported_back(fix: FixNotice, organisation: str, source: str, lang: str, today: date, comment: str,
                  with_photo: bool, link: str | None = None) -> Message:
    """The message to DKE: `organisation` moved `fix` from `source` to its state through its link, with its
    comment; `link` opens the fix in the app."""
    label = organisations.label(organisation, lang)
    subject = t("notify.subject.reported_back", lang, organisation=label, title=_one_line(fix.title),
                state=t(f"fixes.state.{fix.state}", lang))
    return _render("message_reported_back", lang, subject, fix=fix, today=today, organisation=label, source=source,
                   comment=comment, with_photo=with_photo, link=link, photos=0)
