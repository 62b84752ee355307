"""The command line: `python -m dke_geo COMMAND`. Commands run as the operator (admin role).

The settings are checked before any command runs (an unknown or malformed DKE_GEO_* variable stops it with the
variable's name), and one app context (dke_geo/context.py) is made for the run and passed to the services.
"""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from dke_geo import config, drafts, fixtures, private_files
from dke_geo.config import StartupError
from dke_geo.context import AppContext
from dke_geo.errors import DkeError
from dke_geo.i18n import LANGUAGES, t
from dke_geo.roles import SYSTEM, Role
from dke_geo.services import areas as area_service
from dke_geo.services import fixes as fix_service
from dke_geo.services import maintenance
from dke_geo.services import notifications as notify_service
from dke_geo.services import public as public_service
from dke_geo.services import users as user_service

app = typer.Typer(help="dke-geo: area walks and safety mapping for Albertslund Kommune.", no_args_is_help=True,
                  add_completion=False)
areas_app = typer.Typer(help="Housing areas: list them, or replace the outlines with the municipality's own.",
                        no_args_is_help=True)
app.add_typer(areas_app, name="areas")
user_app = typer.Typer(help="Local accounts and roles (with OpenID Connect: the e-mail that maps to a role).",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")
fixes_app = typer.Typer(help="Solution proposals (fixes): who is responsible, their state, what is overdue.",
                        no_args_is_help=True)
app.add_typer(fixes_app, name="fixes")
notify_app = typer.Typer(help="Messages to the responsible organisations: send the outbox, queue the weekly digests, "
                         "list what was sent.", no_args_is_help=True)
app.add_typer(notify_app, name="notify")


@app.callback()
def _start(cli: typer.Context) -> None:
    """Check the settings and make the run's app context, before any command."""
    if cli.resilient_parsing or any(arg in ("--help", "-h") for arg in sys.argv):
        return
    try:
        settings = config.load()
    except StartupError as exc:
        typer.secho(f"{exc}. Nothing was done.", fg="red", err=True)
        raise typer.Exit(2) from None
    cli.obj = AppContext.open(settings)
    cli.call_on_close(cli.obj.close)


def _fail(exc: DkeError, lang: str | None = None) -> None:
    """The one place a DkeError becomes what the command line prints: its message in the chosen language (`--lang`,
    else DKE_GEO_LANGUAGE), in red on standard error, and exit status 1."""
    typer.secho(exc.message(lang or config.get("DKE_GEO_LANGUAGE") or "da"), fg="red", err=True)
    raise typer.Exit(1)


@app.command("init-db")
def init_db(cli: typer.Context) -> None:
    """Create the database or migrate it to the newest schema (safe to run again), store the shipped area
    outlines if there are none, and remove stray photo files and stale drafts (`make run` runs this at every
    start)."""
    context: AppContext = cli.obj
    done = maintenance.prepare(context)
    typer.echo(f"database ready: {context.engine.url.render_as_string(hide_password=True)}"
               + (" (areas seeded from data/geo/areas.geojson)" if done.seeded else ""))
    if done.strays:
        typer.echo(f"removed {done.strays} stray photo file(s) that no saved finding refers to")
    if done.stale_drafts:
        typer.echo(f"removed {done.stale_drafts} unsaved draft(s) nobody came back to in {drafts.STALE_DAYS} days")
    if done.tightened:
        typer.echo(f"made {done.tightened} file(s) and folder(s) in the data folder readable by this user only")


_NO_DEMO = {
    "has_data": "the database already holds data (walks or findings): demo not loaded",
    "configured_database": "DKE_GEO_DATABASE_URL names a database of your own: no demo data or demo accounts are "
                           "loaded into it unasked (run `python -m dke_geo demo` to load them on purpose)",
    "has_accounts": "the database already has accounts: demo not loaded",
}


@app.command()
def demo(cli: typer.Context,
         if_empty: bool = typer.Option(False, "--if-empty", help="Only into the embedded default database while it "
                                       "is brand new (no account, no walk, no finding); otherwise do nothing (exit "
                                       "0). `make run` runs this at every start.")) -> None:
    """Load the demo walks, made-up findings and demo accounts with public passwords (all flagged as demo) into
    a database without walks or findings."""
    context: AppContext = cli.obj
    maintenance.prepare(context)
    refused = maintenance.why_no_demo(context, asked_by_name=not if_empty)
    if refused is not None:
        if not if_empty:
            typer.secho(_NO_DEMO[refused], fg="red", err=True)
            raise typer.Exit(1)
        typer.echo(_NO_DEMO[refused])
        _print_account_notes(context)
        return
    counts = maintenance.load_demo(context)
    typer.echo(f"demo loaded: {counts['walks']} walks, {counts['observations']} findings (all flagged as demo)")
    _print_account_notes(context)


def _print_account_notes(context: AppContext) -> None:
    """The demo accounts that exist in the database, with their (public) passwords, and how to make a real
    administrator while there is none."""
    users = user_service.list_users(context, SYSTEM)
    present = {u["name"] for u in users if u["is_demo"]}
    accounts = [a for a in fixtures.DEMO_USERS if a[0] in present]
    if accounts:
        typer.echo("demo accounts (public passwords: remove them with `user remove NAME` before real use):")
    for name, role, password in accounts:
        typer.echo(f"  {role:<8} {name:<18} password: {password}")
    if not any(u["role"] == Role.ADMIN and not u["is_demo"] for u in users):
        typer.echo("no administrator of your own yet: make one with "
                   "`python -m dke_geo user add NAME --role admin`")


@areas_app.command("list")
def areas_list(cli: typer.Context) -> None:
    """List the areas with their number of findings."""
    table = area_service.summary(cli.obj, SYSTEM)
    for row in table.itertuples():
        typer.echo(f"{row.id:<18} {row.name:<18} {row.confidence:<11} {row.area_ha:>7.1f} ha "
                   f"{row.observations:>6} findings")


@areas_app.command("import")
def areas_import(cli: typer.Context,
                 file: Path = typer.Argument(..., exists=True, dir_okay=False, help="GeoJSON, GeoPackage or "
                                             "Shapefile, any CRS"),
                 name_field: str = typer.Option(..., "--name-field",
                                                help="The attribute holding the area name")) -> None:
    """Replace the shipped outlines with the municipality's own and re-assign findings to them."""
    try:
        result = area_service.replace_from_file(cli.obj, SYSTEM, file, name_field)
    except DkeError as exc:
        _fail(exc)
    typer.echo(f"{result['areas']} areas imported; {result['reassigned']} of {result['observations']} "
               "findings moved to another area")


def _read_password(from_stdin: bool) -> str:
    """From a hidden prompt, typed twice; or the first line of standard input, for scripts."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(cli: typer.Context,
             name: str = typer.Argument(..., help="The login name"),
             role: Role = typer.Option(..., "--role", help="staff, planner or admin"),
             email: str = typer.Option(None, "--email", help="The e-mail the OpenID Connect provider reports "
                                       "(maps the municipality login to this account and role)"),
             no_password: bool = typer.Option(False, "--no-password", help="No local password: login only "
                                              "through OpenID Connect (needs --email)"),
             password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the "
                                                 "first line of standard input instead of a hidden prompt")) -> None:
    """Create an account. The password is asked for (hidden, twice), never taken from the command line."""
    if no_password and not email:
        typer.secho("--no-password needs --email (the account could not log in at all)", fg="red", err=True)
        raise typer.Exit(1)
    password = None if no_password else _read_password(password_stdin)
    try:
        user_service.add_user(cli.obj, SYSTEM, name, role, password, email=email)
    except DkeError as exc:
        _fail(exc)
    typer.echo(f"user {name} added with role {role.value}")


@user_app.command("list")
def user_list(cli: typer.Context) -> None:
    """List the accounts: name, role, e-mail, demo."""
    for u in user_service.list_users(cli.obj, SYSTEM):
        flags = " ".join(f for f, on in (("demo", u["is_demo"]), ("inactive", not u["active"])) if on)
        typer.echo(f"{u['name']:<24} {u['role']:<8} {u['email'] or '-':<32} {flags}".rstrip())


@user_app.command("remove")
def user_remove(cli: typer.Context,
                name: str = typer.Argument(..., help="The login name")) -> None:
    """Delete an account and end its sessions (its past actions keep the name they were recorded with)."""
    try:
        user_service.remove_user(cli.obj, SYSTEM, name)
    except DkeError as exc:
        _fail(exc)
    typer.echo(f"user {name} removed")


@user_app.command("set-password")
def user_set_password(cli: typer.Context,
                      name: str = typer.Argument(..., help="The login name"),
                      password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from "
                                                          "the first line of standard input instead of a hidden "
                                                          "prompt")) -> None:
    """Give an account a new password (asked for hidden, twice); every open session of the account ends."""
    try:
        user_service.set_password(cli.obj, SYSTEM, name, _read_password(password_stdin))
    except DkeError as exc:
        _fail(exc)
    typer.echo(f"user {name} has a new password; its sessions were ended")


@user_app.command("set-role")
def user_set_role(cli: typer.Context,
                  name: str = typer.Argument(..., help="The login name"),
                  role: Role = typer.Argument(..., help="staff, planner or admin")) -> None:
    """Change an account's role (its open tabs get it at their next interaction)."""
    try:
        user_service.set_role(cli.obj, SYSTEM, name, role)
    except DkeError as exc:
        _fail(exc)
    typer.echo(f"user {name} now has role {role.value}")


@app.command()
def publish(cli: typer.Context,
            out: Path = typer.Option(..., "--out", file_okay=False, help="The folder to write the site into "
                                     "(replaces an earlier export there)"),
            lang: str = typer.Option(config.get("DKE_GEO_LANGUAGE") or "da", "--lang", help="da or en")) -> None:
    """Write the public map as a self-contained static site (index.html, map.html, assets, photos) with the
    same content as the public page: only published findings, approved photos without EXIF."""
    if lang not in LANGUAGES:
        typer.secho(f"--lang must be one of {', '.join(LANGUAGES)}", fg="red", err=True)
        raise typer.Exit(1)
    try:
        result = public_service.write_site(cli.obj, out, lang)
    except DkeError as exc:
        _fail(exc, lang)
    typer.echo(f"public site written to {out}: {result['findings']} findings, {result['photos']} photos")


@fixes_app.command("list")
def fixes_list(cli: typer.Context,
               overdue: bool = typer.Option(False, "--overdue", help="Only fixes past their due date and not yet "
                                            "done"),
               fmt: str = typer.Option("table", "--format", help="table (for reading) or csv (for a spreadsheet)"),
               lang: str = typer.Option(config.get("DKE_GEO_LANGUAGE") or "da", "--lang", help="da or en")) -> None:
    """List the solution proposals, overdue first: state, due date, responsible organisation, title."""
    if fmt not in ("table", "csv") or lang not in LANGUAGES:
        typer.secho(f"--format must be table or csv, --lang one of {', '.join(LANGUAGES)}", fg="red", err=True)
        raise typer.Exit(1)
    try:
        table = fix_service.fixes_frame(cli.obj, SYSTEM, overdue_only=overdue)
    except DkeError as exc:
        _fail(exc, lang)
    if fmt == "csv":
        typer.echo(fix_service.to_csv(table, lang), nl=False)
        return
    for row in table.itertuples():
        typer.echo(f"{'OVERDUE' if row.overdue else '':<8}{row.state:<12}{str(row.due_date or '-'):<11}"
                   f"{row.organisation or '-':<22}{row.title}")
    typer.echo(f"{len(table)} fixes, {int(table['overdue'].sum())} overdue")


@notify_app.command("send")
def notify_send(cli: typer.Context) -> None:
    """Queue the reminders that are due (and this week's digests from Monday 07:00), then deliver the outbox over
    SMTP; a failed message is retried later with backoff. For a cron job or systemd timer (the app's scheduler
    does the same every DKE_GEO_NOTIFY_INTERVAL_S)."""
    try:
        queued = notify_service.queue_due(cli.obj)
        result = notify_service.send_queued(cli.obj)
    except DkeError as exc:
        _fail(exc)
    if not result.configured:
        typer.echo(f"{queued} message(s) queued; DKE_GEO_SMTP_HOST is not set, so nothing is sent: "
                   f"{result.waiting} message(s) wait in the outbox")
        return
    typer.echo(f"{queued} queued, {result.sent} sent, {result.failed} failed (retried later), "
               f"{result.waiting} waiting")


@notify_app.command("digest")
def notify_digest(cli: typer.Context) -> None:
    """Queue this week's digest for every organisation with open or recently verified fixes (once per week;
    `notify send` delivers them)."""
    try:
        queued = notify_service.queue_digests(cli.obj)
    except DkeError as exc:
        _fail(exc)
    typer.echo(f"{queued} weekly digest(s) queued")


@notify_app.command("list")
def notify_list(cli: typer.Context,
                failed: bool = typer.Option(False, "--failed", help="Only messages that failed or are being retried"),
                limit: int = typer.Option(50, "--limit", min=1, help="How many, newest first")) -> None:
    """The outbox, newest first: when, what, to which organisation, state, attempts, last error."""
    try:
        table = notify_service.outbox(cli.obj, SYSTEM, failed_only=failed, limit=limit)
    except DkeError as exc:
        _fail(exc)
    for row in table.itertuples():
        sent = f"sent {row.sent_at:%Y-%m-%d %H:%M}" if row.state == "sent" else f"{row.attempts} attempt(s)"
        typer.echo(f"{row.created_at:%Y-%m-%d %H:%M}  {row.state:<8}{row.kind:<14}{row.organisation:<22}{sent:<24}"
                   f"{row.subject}")
        if row.last_error:
            typer.echo(f"{'':<18}last error: {row.last_error}")
    typer.echo(f"{len(table)} message(s)")


# ---------------------------------------------------------------- import, export, reports
# These load pandas/GDAL/matplotlib only when run, so the other commands stay quick to start.
_LANG = typer.Option(config.get("DKE_GEO_LANGUAGE") or "da", "--lang", help="da or en")


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        typer.secho(f"--lang must be one of {', '.join(LANGUAGES)}", fg="red", err=True)
        raise typer.Exit(1)


@app.command("export")
def export_cmd(cli: typer.Context,
               fmt: str = typer.Option(..., "--format", help="gpkg, geojson, csv, kml or xlsx"),
               out: Path = typer.Option(..., "--out", dir_okay=False, help="The file to write (replaced)"),
               table: str = typer.Option("observations", "--table", help="For geojson and csv: observations, fixes, "
                                         "walks or areas (gpkg, kml and xlsx carry them all)"),
               public: bool = typer.Option(False, "--public", help="Only what the public map shows (published "
                                           "findings, no internal fields); filters do not apply"),
               date_from: str = typer.Option(None, "--from", help="First day (YYYY-MM-DD)"),
               date_to: str = typer.Option(None, "--to", help="Last day (YYYY-MM-DD)"),
               area: list[str] = typer.Option([], "--area", help="Area id (repeat for several)"),
               category: list[str] = typer.Option([], "--category", help="Category id (repeat for several)"),
               severity: list[int] = typer.Option([], "--severity", help="1, 2 or 3 (repeat for several)"),
               status: list[str] = typer.Option([], "--status", help="open, planned or resolved (repeatable)"),
               light: list[str] = typer.Option([], "--light", help="daylight, twilight or dark (repeatable)"),
               walk: list[str] = typer.Option([], "--walk", help="Walk id (repeat for several)"),
               no_demo: bool = typer.Option(False, "--no-demo", help="Leave out demo rows"),
               lang: str = _LANG) -> None:
    """Export findings, fixes, walks and areas for QGIS, Excel or Google Earth, filtered like the planner's map."""
    from dke_geo.filters import Filter
    from dke_geo.services import exports

    _check_lang(lang)
    try:
        selection = Filter.parse({"date_from": date_from, "date_to": date_to, "areas": area, "categories": category,
                                  "severities": severity, "statuses": status, "light": light, "walks": walk,
                                  "include_demo": not no_demo})
        if public and selection != Filter():
            raise DkeError("export.error.public_filters")
        counts = exports.export(cli.obj, SYSTEM, fmt, out, selection, public=public, table=table, lang=lang)
    except DkeError as exc:
        _fail(exc, lang)
    typer.echo(f"{out}: {exports.describe(counts, lang)}")


def _print_import(report, lang: str) -> None:
    for line in report.lines(lang):
        typer.echo(line)


def _run_import(run, lang: str) -> None:
    """Run an import and print its report; a refused import prints the rows it refused, then fails, and so does a
    dry run that found rows to refuse (exit status 1: a script can tell)."""
    from dke_geo.services import imports

    try:
        report = run()
    except imports.ImportRefused as exc:
        _print_import(exc.report, lang)
        _fail(exc, lang)
    except DkeError as exc:
        _fail(exc, lang)
    _print_import(report, lang)
    if report.rejected:
        raise typer.Exit(1)


@app.command("import")
def import_cmd(cli: typer.Context,
               path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV, XLSX, GeoJSON or GeoPackage "
                                           "(our export, KoBoToolbox, ODK Central/Briefcase, QField, a table)"),
               walk: str = typer.Option(None, "--walk", help="Put every finding on this walk (its id)"),
               dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would be imported and every "
                                            "rejected row with its reason"),
               mapping: Path = typer.Option(None, "--mapping", exists=True, dir_okay=False,
                                            help="A mapping file (see data/import_mappings/README.md)"),
               allow_outside: bool = typer.Option(False, "--allow-outside", help="Accept points outside the "
                                                  "municipality (counted in the report); never outside WGS84"),
               layer: str = typer.Option(None, "--layer", help="The layer of a GeoPackage (or sheet of a workbook) "
                                         "to read; without it the report says which one was taken and why"),
               write_mapping: Path = typer.Option(None, "--write-mapping", dir_okay=False,
                                                  help="Import nothing: write a mapping file (TOML) drafted from the "
                                                  "file's columns and category values, to check and then use with "
                                                  "--mapping"),
               lang: str = _LANG) -> None:
    """Import findings, all or nothing; a second import of the same file adds nothing."""
    from dke_geo.services import imports

    _check_lang(lang)
    if write_mapping is not None:
        try:
            draft = imports.write_mapping(cli.obj, SYSTEM, path, write_mapping, layer=layer)
        except DkeError as exc:
            _fail(exc, lang)
        typer.echo(t("import.mapping_written", lang, out=write_mapping, n=len(draft.categories),
                     guessed=len(draft.guessed), file=path))
        return
    _run_import(lambda: imports.import_findings(cli.obj, SYSTEM, path, mapping=mapping, walk_id=walk,
                                                  dry_run=dry_run, allow_outside=allow_outside, layer=layer), lang)


@app.command("form")
def form_cmd(cli: typer.Context,
             out: Path = typer.Option(..., "--out", dir_okay=False, help="The XLSForm to write (.xlsx)"),
             walk: str = typer.Option(None, "--walk", help="The walk's id, as the form's default walk"),
             lang: str = _LANG) -> None:
    """Write the XLSForm for offline walks in ODK Collect or KoBoCollect (upload it to ODK Central or
    KoBoToolbox); their exports of it import with no mapping to write."""
    from dke_geo.services import imports

    _check_lang(lang)
    try:
        written = imports.write_form(cli.obj, SYSTEM, out, walk_id=walk)
    except DkeError as exc:
        _fail(exc, lang)
    typer.echo(t("form.written", lang, out=written))


@app.command("import-reports")
def import_reports_cmd(cli: typer.Context,
                       path: Path = typer.Argument(..., exists=True, dir_okay=False, help="Open311 GeoReport v2 "
                                                   "(JSON, XML), or CSV, XLSX, GeoJSON, GeoPackage with a date, "
                                                   "a type and a point"),
                       dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would be imported"),
                       mapping: Path = typer.Option(None, "--mapping", exists=True, dir_okay=False,
                                                    help="A mapping file (see data/import_mappings/README.md)"),
                       allow_outside: bool = typer.Option(False, "--allow-outside", help="Accept points outside "
                                                          "the municipality (counted in the report)"),
                       lang: str = _LANG) -> None:
    """Import police or resident incident reports into their own table (apart from walk findings)."""
    from dke_geo.services import imports

    _check_lang(lang)
    _run_import(lambda: imports.import_reports(cli.obj, SYSTEM, path, mapping=mapping, dry_run=dry_run,
                                                 allow_outside=allow_outside), lang)


@app.command("report")
def report_cmd(cli: typer.Context,
               out: Path = typer.Option(..., "--out", dir_okay=False, help="report.html or report.pdf"),
               walk: str = typer.Option(None, "--walk", help="The walk's id: the walk report"),
               period: str = typer.Option(None, "--period", help="A half year, e.g. 2017H1: the half-year summary"),
               forum: bool = typer.Option(False, "--forum", help="Walk report for the Bydelsforum: only the walk's "
                                          "published findings, as on the public map; nothing internal"),
               lang: str = _LANG) -> None:
    """Write the walk report (--walk) or the half-year summary (--period) as HTML or PDF."""
    from dke_geo import reports
    from dke_geo.services import reports as report_service

    _check_lang(lang)
    if (walk is None) == (period is None):
        typer.secho("give either --walk ID or --period YYYYH1|YYYYH2", fg="red", err=True)
        raise typer.Exit(1)
    try:
        fmt = reports.format_for(cli.obj.refuse_database_file(out))
        data = (report_service.walk_report(cli.obj, SYSTEM, walk, lang, fmt, forum=forum) if walk
                else report_service.period_report(cli.obj, SYSTEM, period, lang, fmt))
    except DkeError as exc:
        _fail(exc, lang)
    private_files.write_bytes(out, data)
    typer.echo(f"report written to {out} ({len(data) // 1024} KiB)")


@app.command("backup")
def backup_cmd(cli: typer.Context,
               out: Path = typer.Option(..., "--out", dir_okay=False, help="The archive to write (.zip)")) -> None:
    """Back up the database and its photos into one archive, consistently, while the app keeps running
    (SQLite: the online backup API; PostGIS: pg_dump, or the commands to run by hand when it is not installed)."""
    try:
        result = maintenance.backup(cli.obj, out)
    except DkeError as exc:
        _fail(exc)
    typer.echo(f"backup written to {out}: {result.database}, {result.counts['observations']} findings, "
               f"{result.counts['fixes']} fixes, {result.photo_files} photo files ({out.stat().st_size // 1024} KiB)")


@app.command("restore")
def restore_cmd(cli: typer.Context,
                file: Path = typer.Argument(..., exists=True, dir_okay=False, help="An archive made by `backup`"),
                force: bool = typer.Option(False, "--force", help="Overwrite a database that already holds data")
                ) -> None:
    """Put a backup back: the database (refused if it already holds data, unless --force) and the photos."""
    try:
        result = maintenance.restore(cli.obj, file, force=force)
    except DkeError as exc:
        _fail(exc)
    typer.echo(f"restored {file} (made {result.created_at}): {result.counts['observations']} findings, "
               f"{result.counts['fixes']} fixes, {result.photo_files} photo files")
