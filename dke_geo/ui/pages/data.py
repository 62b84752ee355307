"""Import, export and reports for planners: upload with a checked preview first, downloads of the chosen
findings, and the walk and half-year reports. Thin: every step is one call into dke_geo/services (imports,
exports, reports)."""
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dke_geo import reports
from dke_geo.categories import categories
from dke_geo.errors import DkeError
from dke_geo.filters import Filter
from dke_geo.interop import readers, records, writers
from dke_geo.services import exports, hotspots, imports
from dke_geo.services import reports as report_service
from dke_geo.ui import session, widgets
from dke_geo.ui.session import t

IMPORT_UPLOAD_MB = 200
"""An import file (a whole GeoPackage export, say) may be far larger than a photo: above the 25 MB that
.streamlit/config.toml sets for every other file picker (server.maxUploadSize, the photos' limit)."""

ctx, actor, lang = session.context(), session.actor(), session.lang()
choices = hotspots.choices(ctx, actor)
st.title(t("data.title"))
tab_import, tab_export, tab_reports = st.tabs([t("data.tab_import"), t("data.tab_export"), t("data.tab_reports")])


def _mapping_bytes(mapping_upload) -> bytes | None:
    """The mapping to use: an uploaded file, else one made in the table below (for this file), else none."""
    if mapping_upload is not None:
        return mapping_upload.getvalue()
    made = st.session_state.get("data_made_mapping")
    return made[1] if made and made[0] == st.session_state.get("data_file_name") else None


def _run_import(upload, mapping_upload, kind: str, walk_id: str | None, dry_run: bool, bar, layer: str | None) -> None:
    """Write the uploads to a temporary folder (the import reads files) and import or check them."""
    with tempfile.TemporaryDirectory(prefix="dke-upload-") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        mapping = None
        mapping_data = _mapping_bytes(mapping_upload)
        if mapping_data is not None:
            mapping = Path(tmp) / "mapping.toml"
            mapping.write_bytes(mapping_data)

        def progress(done: int, total: int) -> None:
            bar.progress(done / max(total, 1), text=t("data.progress", done=done, total=total))

        try:
            if kind == "findings":
                report = imports.import_findings(ctx, actor, path, mapping=mapping, walk_id=walk_id,
                                                   dry_run=dry_run, layer=layer, progress=progress)
            else:
                report = imports.import_reports(ctx, actor, path, mapping=mapping, dry_run=dry_run, layer=layer,
                                                  progress=progress)
        except imports.ImportRefused as exc:
            st.session_state["data_report"] = exc.report
            st.session_state["data_message"] = ("error", exc.message(lang))
            return
        except DkeError as exc:
            st.session_state.pop("data_report", None)
            st.session_state["data_message"] = ("error", exc.message(lang))
            return
    st.session_state["data_report"] = report
    st.session_state["data_message"] = ("success", report.lines(lang)[0]) if report.imported else None


def _mapping_table(upload, layer: str | None) -> None:
    """The drafted mapping of the uploaded file as a table to fill in: each category value of the file against one
    of ours (best guesses filled in); "use" keeps the mapping for the next check and import, and offers it as a
    TOML file to download."""
    with tempfile.TemporaryDirectory(prefix="dke-upload-") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            draft = imports.draft_mapping(ctx, actor, path, layer=layer)
        except DkeError as exc:
            st.error(exc.message(lang))
            return
        cats = categories()
        st.caption(t("data.mapping_columns", columns=", ".join(f"{k} <- {v}" for k, v in
                                                               {**draft.location, **draft.fields}.items() if v)))
        if not draft.categories:
            st.info(t("data.mapping_no_values"))
            return
        table = draft.table().rename(columns={"value": t("data.mapping_value"), "category": t("data.mapping_category"),
                                              "guessed": t("data.mapping_guessed")})
        edited = st.data_editor(table, key="data_mapping_table", hide_index=True, width="stretch",
                                disabled=[t("data.mapping_value"), t("data.mapping_guessed")],
                                column_config={t("data.mapping_category"): st.column_config.SelectboxColumn(
                                    options=list(cats), required=True)})
        if st.button(t("data.mapping_use"), key="data_mapping_use"):
            chosen = dict(zip(edited[t("data.mapping_value")], edited[t("data.mapping_category")], strict=True))
            out = Path(tmp) / "mapping.toml"
            imports.write_mapping(ctx, actor, path, out, layer=layer, categories=chosen)
            st.session_state["data_made_mapping"] = (upload.name, out.read_bytes())
    made = st.session_state.get("data_made_mapping")
    if made and made[0] == upload.name:
        st.success(t("data.mapping_in_use"))
        st.download_button(t("data.download", name="mapping.toml"), made[1], file_name="mapping.toml",
                           key="data_mapping_download", mime="application/toml")


with tab_import:
    kind = st.segmented_control(t("data.kind"), ["findings", "reports"], default="findings", required=True,
                                key="data_kind", format_func=lambda k: t(f"data.kind_{k}"))
    upload = st.file_uploader(t("data.file"), type=[e.lstrip(".") for e in readers.EXTENSIONS],
                              key="data_file", help=t("data.file_help"), max_upload_size=IMPORT_UPLOAD_MB)
    mapping_upload = st.file_uploader(t("data.mapping"), type=["toml"], key="data_mapping",
                                      help=t("data.mapping_help"))
    layer = st.text_input(t("data.layer"), key="data_layer", help=t("data.layer_help")).strip() or None
    walk_id = None
    if kind == "findings":
        walk_id = st.selectbox(t("data.walk"), [None, *choices.walks], key="data_walk",
                               format_func=lambda w: t("data.walk_from_file") if w is None else choices.walks[w])
    st.session_state["data_file_name"] = upload.name if upload is not None else None
    if upload is not None and kind == "findings":
        with st.expander(t("data.mapping_make")):
            _mapping_table(upload, layer)
    bar = st.empty()
    if upload is not None and st.button(t("data.check"), key="data_check", type="secondary"):
        _run_import(upload, mapping_upload, kind, walk_id, True, bar, layer)
    report = st.session_state.get("data_report")
    message = st.session_state.get("data_message")
    if message:
        getattr(st, message[0])(message[1])
    if report is not None and upload is not None and report.file == Path(upload.name).name:
        for line in report.summary(lang):
            st.write(line)
        if report.rejected:
            st.error(t("data.rejected", n=len(report.rejected)))
            st.dataframe(pd.DataFrame([{t("data.where"): records.spans([r.row for r in group], lang),
                                        t("data.count"): len(group),
                                        t("data.reasons"): " ".join(group[0].reasons(lang))}
                                       for group in report.groups()]),
                         hide_index=True, width="stretch")
        if len(report.preview):
            with st.expander(t("data.preview", n=len(report.preview)), expanded=not report.imported):
                st.dataframe(report.preview, hide_index=True, width="stretch")
        ready = not report.imported and report.ok and report.new
        if ready and st.button(t("data.import", n=report.new), key="data_import", type="primary"):
            _run_import(upload, mapping_upload, kind, walk_id, False, bar, layer)
            st.rerun()

with tab_export:
    cats = categories()
    left, right = st.columns(2)
    span = (choices.first, choices.last) if choices.first else ()
    dates = left.date_input(t("data.f_dates"), value=span, key="data_dates", format="DD.MM.YYYY")
    areas = widgets.all_or_some(t("data.f_areas"), list(choices.areas), "data_areas", choices.areas.get, left)
    chosen = widgets.all_or_some(t("data.f_categories"), list(cats), "data_categories",
                                 lambda c: f"{cats[c].icon} {cats[c].label(lang)}", right)
    walks = widgets.all_or_some(t("data.f_walks"), list(choices.walks), "data_walks", choices.walks.get, right)
    include_demo = st.toggle(t("data.f_demo"), value=True, key="data_demo")
    public = st.toggle(t("data.public"), value=False, key="data_public", help=t("data.public_help"))
    fmt = st.segmented_control(t("data.format"), list(writers.FORMATS), default="gpkg", required=True,
                               key="data_format", format_func=lambda f: t(f"data.format_{f}"))
    table = "observations"
    if fmt not in writers.MULTI_TABLE:
        table = st.selectbox(t("data.table"), ["observations", "areas"] if public else list(writers.TABLES),
                             key="data_table", format_func=lambda n: t(f"export.table.{n}"))
    if st.button(t("data.prepare"), key="data_prepare"):
        try:
            selection = None if public else Filter.parse({
                "date_from": dates[0] if dates else None, "date_to": dates[1] if len(dates) > 1 else None,
                "areas": areas, "categories": chosen, "walks": walks, "include_demo": include_demo})
            st.session_state["data_export"] = (writers.file_name(fmt, public, table), fmt, exports.export_bytes(
                ctx, actor, fmt, selection, public=public, table=table, lang=lang))
        except DkeError as exc:
            st.error(exc.message(lang))
    prepared = st.session_state.get("data_export")
    if prepared:
        name, prepared_fmt, data = prepared
        st.download_button(t("data.download", name=name), data, file_name=name, key="data_download",
                           mime=writers.MEDIA_TYPES[prepared_fmt], type="primary")

with tab_reports:
    st.subheader(t("data.walk_report"))
    walk = st.selectbox(t("data.walk"), list(choices.walks), format_func=choices.walks.get, key="data_report_walk")
    forum = st.toggle(t("data.forum"), value=False, key="data_forum", help=t("data.forum_help"))
    st.subheader(t("data.period_report"))
    period = st.text_input(t("data.period"), value="2017H1", key="data_period", help=t("data.period_help"))
    columns = st.columns(4)
    buttons = [("walk", "html"), ("walk", "pdf"), ("period", "html"), ("period", "pdf")]
    for column, (what, report_fmt) in zip(columns, buttons, strict=True):
        if column.button(t(f"data.make_{what}", fmt=report_fmt.upper()), key=f"data_make_{what}_{report_fmt}",
                         disabled=what == "walk" and walk is None):
            try:
                with st.spinner(t("data.making")):
                    data = (report_service.walk_report(ctx, actor, walk, lang, report_fmt, forum=forum)
                            if what == "walk" else report_service.period_report(ctx, actor, period, lang, report_fmt))
                name = f"{'walk' if what == 'walk' else reports.parse_period(period).label}-report.{report_fmt}"
                st.session_state["data_made"] = (name, report_fmt, data)
            except DkeError as exc:
                st.error(exc.message(lang))
    made = st.session_state.get("data_made")
    if made:
        name, made_fmt, data = made
        st.download_button(t("data.download", name=name), data, file_name=name, key="data_report_download",
                           mime="application/pdf" if made_fmt == "pdf" else "text/html", type="primary")
