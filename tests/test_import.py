"""Import of findings and incident reports: the real KoBoToolbox/ODK/Open311/GDAL files, files made here
with those tools' real column naming placed inside Albertslund, bad rows, re-imports; SQLite and PostGIS."""
from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from sqlalchemy import func, select

from dke_geo import fixtures, geo
from dke_geo.errors import NotFound, PermissionDenied
from dke_geo.interop import column_mapping, readers
from dke_geo.model import IncidentReport, Observation, Walk
from dke_geo.roles import Actor, Role
from dke_geo.services import imports, recording
from dke_geo.services.imports import ImportRefused
from dke_geo.store.db import reading
from dke_geo.store.tables import incident_reports, observations

REAL = Path(__file__).parent / "data" / "realworld"
PLANNER = Actor("planner-test", Role.PLANNER)
STAFF = Actor("staff-test", Role.STAFF)


def count(ctx, table=observations) -> int:
    with reading(ctx.engine) as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def stored(ctx, table=observations) -> pd.DataFrame:
    with reading(ctx.engine) as conn:
        result = conn.execute(select(table))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


@pytest.fixture(scope="module")
def inside() -> list[tuple[float, float]]:
    """Real points on paths inside Albertslund (from the demo's placement on data/geo paths)."""
    return [(o.lon, o.lat) for o in fixtures.demo_walks_and_observations()[1][:40]]


def write_csv(path: Path, header: list[str], rows: list[list], encoding="utf-8", delimiter=",") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


# ------------------------------------------------------------------ KoBoToolbox and ODK, made here
def kobo_csv(path: Path, points) -> Path:
    """A KoBoToolbox CSV export of a form with a geopoint "location" and a group "finding" (KoBo's real
    column naming: group/question, _<geopoint>_latitude ..., _uuid, _submission_time)."""
    header = ["start", "end", "finding/category", "finding/severity", "finding/note", "location",
              "_location_latitude", "_location_longitude", "_location_altitude", "_location_precision",
              "meta/instanceID", "_id", "_uuid", "_submission_time", "_tags", "_notes", "_submitted_by"]
    cats = ["lys", "Belysning", "hiding_places", "Litter and waste"]
    rows = []
    for i, (lon, lat) in enumerate(points):
        uid = f"5f0c9a43-1d7e-4b0a-9b39-0000000000{i:02d}"
        rows.append([f"2017-04-20T21:{10 + i:02d}:00.000+02:00", f"2017-04-20T21:{11 + i:02d}:00.000+02:00",
                     cats[i % len(cats)], str(1 + i % 3), f"Kobo-fund {i} æøå", f"{lat} {lon} 12 4.5",
                     f"{lat}", f"{lon}", "12", "4.5", f"uuid:{uid}", str(1000 + i), uid,
                     f"2017-04-20T19:{20 + i:02d}:00", "", "", "dke"])
    return write_csv(path, header, rows)


def odk_csv(path: Path, points) -> Path:
    """An ODK Central CSV export: group "finding" and geopoint "location" written as
    finding-location-Latitude/-Longitude/-Altitude/-Accuracy; KEY and meta-instanceID."""
    header = ["SubmissionDate", "start", "finding-category", "finding-severity", "finding-note",
              "finding-location-Latitude", "finding-location-Longitude", "finding-location-Altitude",
              "finding-location-Accuracy", "meta-instanceID", "KEY", "SubmitterID", "SubmitterName",
              "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits",
              "FormVersion"]
    rows = []
    for i, (lon, lat) in enumerate(points):
        key = f"uuid:8d2c1f0e-7a55-4c1b-a3b2-0000000000{i:02d}"
        rows.append(["2017-05-16T13:30:00.000Z", f"2017-05-16T15:{i:02d}:00.000+02:00", "affald", "2",
                     f"ODK-fund {i}", f"{lat}", f"{lon}", "20.5", "6.0", key, key, "5", "tablet-1", "0", "0", "",
                     "", "collect:abc", "0", "2017051601"])
    return write_csv(path, header, rows)


def test_kobo_export_imports_inside_albertslund_and_reimport_adds_nothing(ctx, tmp_path, inside):
    path = kobo_csv(tmp_path / "kobo.csv", inside[:8])
    dry = imports.import_findings(ctx, PLANNER, path, dry_run=True)
    assert dry.mapping == "KoBoToolbox"
    assert (dry.total, dry.new, dry.existing, dry.rejected) == (8, 8, 0, [])
    assert count(ctx) == 0  # a dry run writes nothing
    done = imports.import_findings(ctx, PLANNER, path)
    assert done.imported and done.new == 8
    rows = stored(ctx).set_index("external_id")
    first = rows.loc["5f0c9a43-1d7e-4b0a-9b39-000000000000"]
    assert (first["category"], first["severity"], first["location_source"]) == ("lighting", 1, "import")
    assert first["internal_note"] == "Kobo-fund 0 æøå"
    assert first["gps_accuracy_m"] == 4.5
    assert abs(first["lon"] - inside[0][0]) < 1e-9 and abs(first["lat"] - inside[0][1]) < 1e-9
    assert pd.Timestamp(first["observed_at"]) == pd.Timestamp("2017-04-20T21:10:00+02:00")
    assert set(rows["category"]) == {"lighting", "hiding_places", "litter"}  # value map, Danish and English labels
    assert rows["area_id"].notna().all()  # derived from the point
    again = imports.import_findings(ctx, PLANNER, path)
    assert (again.new, again.existing) == (0, 8)
    assert count(ctx) == 8


def test_kobo_xlsx_export(ctx, tmp_path, inside):
    frame = pd.read_csv(kobo_csv(tmp_path / "kobo.csv", inside[:3]), dtype=str)
    path = tmp_path / "kobo.xlsx"
    frame.to_excel(path, sheet_name="Områdevandring", index=False)
    report = imports.import_findings(ctx, PLANNER, path)
    assert (report.mapping, report.new, report.rejected) == ("KoBoToolbox", 3, [])


def test_odk_central_export_imports(ctx, tmp_path, inside):
    path = odk_csv(tmp_path / "odk.csv", inside[10:15])
    report = imports.import_findings(ctx, PLANNER, path)
    assert (report.mapping, report.new, report.rejected) == ("ODK Central / Briefcase", 5, [])
    rows = stored(ctx)
    assert set(rows["category"]) == {"litter"}
    assert rows["external_id"].str.startswith("uuid:8d2c1f0e").all()
    assert set(rows["gps_accuracy_m"]) == {6.0}
    assert imports.import_findings(ctx, PLANNER, path).new == 0


# ------------------------------------------------------------------ the real files
KOBO_FORM = """
name = "KoBo test form without a category question"
target = "observations"
detect = ["_uuid"]
[location]
lat = "_*_latitude"
lon = "_*_longitude"
[fields]
external_id = "_uuid"
observed_at = "start_time"
internal_note = "name"
[defaults]
category = "other"
"""


def test_real_kobo_file_every_row_rejected_with_its_reason(ctx, tmp_path):
    path = REAL / "kobo_legacy_kobocat_good_location_geopoint.csv"
    plain = imports.import_findings(ctx, PLANNER, path, dry_run=True)
    assert [r.row for r in plain.rejected] == list(range(2, 11))
    assert all("Category: is required." in r.reasons("en") for r in plain.rejected)
    form = tmp_path / "form.toml"
    form.write_text(KOBO_FORM)
    report = imports.import_findings(ctx, PLANNER, path, mapping=form, dry_run=True)
    assert len(report.rejected) == 9 and report.new == 0
    # the split columns are the truth (the combined "location" column disagrees in 7 of 9 rows)
    assert "(-32.86010, 83.35950)" in report.rejected[0].reasons("en")[0]
    assert all("outside Albertslund Municipality" in r.reasons("en")[0] for r in report.rejected)
    assert "uden for Albertslund Kommune" in report.rejected[0].reasons("da")[0]
    with pytest.raises(ImportRefused):
        imports.import_findings(ctx, PLANNER, path, mapping=form)
    assert count(ctx) == 0


def test_real_kobo_file_outside_only_when_asked_and_counted(ctx, tmp_path):
    form = tmp_path / "form.toml"
    form.write_text(KOBO_FORM)
    path = REAL / "kobo_legacy_kobocat_good_location_geopoint.csv"
    report = imports.import_findings(ctx, PLANNER, path, mapping=form, allow_outside=True)
    assert (report.new, report.outside) == (9, 9)
    assert any("outside the municipality accepted" in line for line in report.lines("en"))
    ids = set(stored(ctx)["external_id"])
    assert "685dd371-4831-4fdc-a205-f285337dd98d" in ids  # the tool's own _uuid is kept
    assert imports.import_findings(ctx, PLANNER, path, mapping=form, allow_outside=True).new == 0


def test_real_odk_files(ctx):
    central = imports.import_findings(
        ctx, PLANNER, REAL / "odk_central_backend_expected_mytestform_location_geopoint.csv", dry_run=True)
    assert [r.row for r in central.rejected] == [2, 3, 4]
    chelsea = central.rejected[2].reasons("en")
    assert chelsea[0] == "No location: the columns location-Longitude, location-Latitude are empty."
    empty = imports.import_findings(ctx, PLANNER, REAL / "odk_briefcase_all_data_types_empty_geopoint.csv",
                                    dry_run=True)
    assert "No location" in empty.rejected[0].reasons("en")[0]
    briefcase = imports.import_findings(ctx, PLANNER, REAL / "odk_briefcase_all_data_types_geopoint.csv",
                                        dry_run=True)
    assert briefcase.mapping == "ODK Central / Briefcase" and len(briefcase.rejected) == 1


def test_briefcase_dates_are_read():
    zone = column_mapping.ZoneInfo("Europe/Copenhagen")
    parsed = column_mapping.parse_time("Apr 26, 2018 8:58:20 AM", zone)
    assert parsed.isoformat() == "2018-04-26T08:58:20+02:00"
    assert column_mapping.parse_time("2018-04-26T08:58:20.525Z", zone).utcoffset().total_seconds() == 0


def test_real_geojson_pitfalls(ctx):
    report = imports.import_findings(
        ctx, PLANNER, REAL / "geojson_pitfall_gdal_crs84_null_geometry_geopandas.geojson", dry_run=True)
    reasons = {r.row: r.reasons("en") for r in report.rejected}
    assert reasons[1][0] == "No geometry."
    assert reasons[2][0] == "The geometry is a LineString, not a point."


# ------------------------------------------------------------------ bad rows: listed, then refused whole
def test_bad_rows_listed_and_real_import_refuses_all(ctx, tmp_path, inside):
    (lon, lat), (lon2, lat2) = inside[0], inside[1]
    rows = [
        [lon, lat, "lighting", "2", "ok 1", "2017-04-20T21:00:00+02:00"],        # row 2: fine
        [12.60, 55.68, "lighting", "2", "København", "2017-04-20T21:00:00+02:00"],  # row 3: outside
        [lon2, lat2, "kiosk", "2", "", "2017-04-20T21:00:00+02:00"],             # row 4: unknown category
        ["", "", "litter", "2", "", "2017-04-20T21:00:00+02:00"],                # row 5: no point
        [lat, lon, "litter", "2", "", "2017-04-20T21:00:00+02:00"],              # row 6: swapped
        [lon, lat, "litter", "7", "", "2017-04-20T21:00:00+02:00"],              # row 7: severity out of range
        [lon, lat, "litter", "2", "", "next tuesday-ish"],                        # row 8: unreadable time
        [lon2, lat2, "paths", "3", "ok 2", "20-04-2017 21:30"],                   # row 9: fine (day first)
    ]
    path = write_csv(tmp_path / "bad.csv", ["lon", "lat", "category", "severity", "note", "time"], rows)
    report = imports.import_findings(ctx, PLANNER, path, dry_run=True)
    reasons = {r.row: " ".join(r.reasons("en")) for r in report.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert "outside Albertslund" in reasons[3]
    assert "Unknown category 'kiosk'" in reasons[4]
    assert "No location" in reasons[5]
    assert "look swapped" in reasons[6]
    assert "Severity: must be between 1 and 3" in reasons[7]
    assert "Time: the time 'next tuesday-ish' cannot be read" in reasons[8]
    assert report.new == 2
    with pytest.raises(ImportRefused) as refused:
        imports.import_findings(ctx, PLANNER, path)
    assert "6 of 8" in refused.value.message("en")
    assert count(ctx) == 0  # all or nothing


def test_duplicate_ids_in_one_file(ctx, tmp_path, inside):
    (lon, lat) = inside[0]
    path = write_csv(tmp_path / "dup.csv", ["id", "lon", "lat", "category"],
                     [["A-1", lon, lat, "litter"], ["A-1", lon, lat, "litter"]])
    report = imports.import_findings(ctx, PLANNER, path, dry_run=True)
    assert [(r.row, r.reasons("en")) for r in report.rejected] == [(3, ["Same id as row 2 in the file."])]


# ------------------------------------------------------------------ other table shapes
def test_semicolon_cp1252_decimal_comma_and_wkt(ctx, tmp_path, inside):
    (lon, lat), (lon2, lat2) = inside[2], inside[3]
    danish = write_csv(tmp_path / "excel.csv", ["længdegrad", "breddegrad", "kategori", "notat"],
                       [[str(lon).replace(".", ","), str(lat).replace(".", ","), "Skrald og affald",
                         "Gård ved blok 3"]],
                       encoding="cp1252", delimiter=";")
    report = imports.import_findings(ctx, PLANNER, danish)
    assert (report.new, report.rejected) == (1, [])
    wkt = write_csv(tmp_path / "wkt.csv", ["wkt", "category"], [[f"POINT ({lon2} {lat2})", "graffiti"]])
    assert imports.import_findings(ctx, PLANNER, wkt).new == 1
    rows = stored(ctx).set_index("category")
    assert rows.loc["litter", "internal_note"] == "Gård ved blok 3"
    assert abs(rows.loc["graffiti", "lon"] - lon2) < 1e-9


def test_qfield_geopackage_layer_in_utm(ctx, tmp_path, inside):
    """A QField project layer: MultiPoint geometry in EPSG:25832, uuid() ids with braces, QGIS datetimes."""
    x, y = geo.to_metric([p[0] for p in inside[:4]], [p[1] for p in inside[:4]])
    layer = gpd.GeoDataFrame(
        {"uuid": [f"{{{uuid.UUID(int=i)}}}" for i in range(4)], "category": ["lighting", "signage", "paths", "other"],
         "severity": [3, 2, 1, 2], "note": ["QField 1", "QField 2", "QField 3", "QField 4"],
         "timestamp": pd.to_datetime(["2017-10-24T22:10:00+02:00"] * 4)},
        geometry=[shapely.MultiPoint([(a, b)]) for a, b in zip(x, y, strict=True)], crs=25832)
    path = tmp_path / "qfield_project.gpkg"
    pyogrio.write_dataframe(layer, path, layer="fund", driver="GPKG")
    report = imports.import_findings(ctx, PLANNER, path)
    assert (report.mapping, report.new, report.rejected) == ("QField layer", 4, [])
    rows = stored(ctx).sort_values("internal_note")
    assert rows["external_id"].tolist()[0] == f"{{{uuid.UUID(int=0)}}}"
    back_x, back_y = geo.to_metric(rows["lon"], rows["lat"])
    assert max(abs(back_x - x).max(), abs(back_y - y).max()) < 0.01  # 1 cm


def test_walk_option_and_unknown_walk(ctx, tmp_path, inside):
    walk = recording.start_walk(ctx, PLANNER, {"title": "Importeret vandring", "area_ids": ["blokland"]})
    path = kobo_csv(tmp_path / "kobo.csv", inside[:2])
    imports.import_findings(ctx, PLANNER, path, walk_id=walk.id)
    assert set(stored(ctx)["walk_id"]) == {str(walk.id)}
    with pytest.raises(NotFound):
        imports.import_findings(ctx, PLANNER, path, walk_id=uuid.uuid4())
    other = uuid.uuid4()
    (lon, lat) = inside[5]
    lost = write_csv(tmp_path / "ours.csv",
                     ["id", "walk_id", "lon", "lat", "category", "observed_at", "location_source"],
                     [[str(uuid.uuid4()), str(other), lon, lat, "litter", "2017-04-20T21:00:00+02:00", "gps"]])
    report = imports.import_findings(ctx, PLANNER, lost, dry_run=True)
    assert f"Unknown walk {other}" in report.rejected[0].reasons("en")[0]


def test_progress_and_role(ctx, tmp_path, inside):
    path = kobo_csv(tmp_path / "kobo.csv", inside[:20])
    seen: list[tuple[int, int]] = []
    imports.import_findings(ctx, PLANNER, path, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (20, 20) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(PermissionDenied):
        imports.import_findings(ctx, STAFF, path, dry_run=True)


def test_unreadable_file_and_unknown_type(ctx, tmp_path):
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"not a geopackage")
    with pytest.raises(readers.UnreadableFile) as exc:
        imports.import_findings(ctx, PLANNER, broken, dry_run=True)
    assert "broken.gpkg cannot be read" in exc.value.message("en")
    with pytest.raises(readers.UnreadableFile):
        imports.import_findings(ctx, PLANNER, tmp_path / "notes.docx", dry_run=True)


def test_bundled_mappings_are_valid():
    for target, model in (("observations", Observation), ("incident_reports", IncidentReport)):
        for found in column_mapping.builtin(target):
            column_mapping.load(found.path, model.model_fields)  # raises on an unknown field


# ------------------------------------------------------------------ incident reports
def test_open311_files_rejected_outside_then_imported_apart_from_findings(ctx):
    for name in ("open311_georeport_v2_chicago_requests.json", "open311_georeport_v2_toronto_requests.xml"):
        dry = imports.import_reports(ctx, PLANNER, REAL / name, dry_run=True)
        assert dry.mapping == "Open311 GeoReport v2" and [r.row for r in dry.rejected] == [1, 2]
        assert all("outside Albertslund" in r.reasons("en")[0] for r in dry.rejected)
        done = imports.import_reports(ctx, PLANNER, REAL / name, allow_outside=True)
        assert (done.new, done.outside) == (2, 2)
        assert imports.import_reports(ctx, PLANNER, REAL / name, allow_outside=True).new == 0
    rows = stored(ctx, incident_reports).set_index("external_id")
    assert len(rows) == 4 and count(ctx) == 0  # not walk findings
    assert rows.loc["14-01100669", "type"] == "Alley Light Out"
    assert rows.loc["101005420892", "source"] == "Open311"
    assert pd.Timestamp(rows.loc["14-01100669", "reported_at"]) == pd.Timestamp("2014-07-12T10:58:43-05:00")


def test_police_reports_table(ctx, tmp_path, inside):
    path = write_csv(tmp_path / "politi_2017.csv", ["sagsnr", "dato", "type", "lon", "lat"],
                     [[f"0165-{i}", f"2017-0{1 + i % 6}-1{i} 22:00", "Indbrud" if i % 2 else "Hærværk", lon, lat]
                      for i, (lon, lat) in enumerate(inside[:6])])
    report = imports.import_reports(ctx, PLANNER, path)
    assert (report.mapping, report.new, report.rejected) == ("Incident table", 6, [])
    rows = stored(ctx, incident_reports)
    assert set(rows["source"]) == {"politi_2017.csv"} and set(rows["type"]) == {"Indbrud", "Hærværk"}
    assert rows["area_id"].notna().any()
    assert imports.import_reports(ctx, PLANNER, path).new == 0


def test_file_walks_are_imported_with_their_findings(ctx, tmp_path, inside):
    """Our GeoPackage carries a walks layer: its walks come along (the round trip is in test_export). A file
    written before walks stored organisation ids names them by label: known ones become ids, others `andre` with
    the label kept."""
    walk = Walk(title="Fra filen", area_ids=["blokland"], organisations=[{"organisation": "beboere", "count": 4}])
    walks = pd.DataFrame([{**walk.model_dump(mode="json", exclude={"light_condition"}), "area_ids": '["blokland"]',
                           "organisations": '[{"name": "Residents", "count": 4}, {"name": "Vejafdelingen"}]'}])
    (lon, lat) = inside[0]
    finding = gpd.GeoDataFrame({"id": [str(uuid.uuid4())], "walk_id": [str(walk.id)], "category": ["lighting"],
                                "observed_at": ["2017-04-20T21:00:00+02:00"], "location_source": ["gps"]},
                               geometry=[shapely.Point(lon, lat)], crs=4326)
    path = tmp_path / "ours.gpkg"
    pyogrio.write_dataframe(finding, path, layer="observations", driver="GPKG")
    pyogrio.write_dataframe(walks, path, layer="walks", driver="GPKG")
    report = imports.import_findings(ctx, PLANNER, path)
    assert (report.new, report.new_walks) == (1, 1)
    imported = recording.get_walk(ctx, PLANNER, walk.id).organisations
    assert [o.model_dump(exclude_none=True) for o in imported] == [
        {"organisation": "beboere", "count": 4}, {"organisation": "andre", "label": "Vejafdelingen", "count": 1}]


# ------------------------------------------------------------------ an import never publishes (issue 13, point 6)
def test_import_never_publishes_and_records_the_importing_user(ctx, tmp_path, inside):
    """Our own export format with published=True and someone else's name: the finding arrives unpublished (no
    publication event, no publisher), recorded by the importing user, the file's author kept as provenance only."""
    from dke_geo.store.tables import publication_events

    (lon, lat) = inside[0]
    path = write_csv(tmp_path / "ours.csv",
                     ["id", "lon", "lat", "category", "observed_at", "location_source", "published", "created_by",
                      "updated_by", "public_text"],
                     [[str(uuid.uuid4()), lon, lat, "lighting", "2017-04-20T21:00:00+02:00", "gps", "True",
                       "mallory", "mallory", "Offentlig tekst"]])
    report = imports.import_findings(ctx, PLANNER, path)
    assert (report.mapping, report.new) == ("dke-geo export", 1)
    row = stored(ctx).iloc[0]
    assert not row["published"] and row["published_by"] is None and row["published_at"] is None
    assert (row["created_by"], row["updated_by"], row["source_created_by"]) == (PLANNER.name, PLANNER.name, "mallory")
    assert count(ctx, publication_events) == 0
