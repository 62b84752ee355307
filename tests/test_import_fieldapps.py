"""Imports a municipal employee can trust (issue 15): files as ODK Central, KoBoToolbox (formpack), QField and
spreadsheets write them, each case done the way a user met it: re-imports without ids, impossible coordinates and
dates, notes that look like formulas, UTC submission times, geopoints in groups, OData and GeoJSON, GeoPackages of
several layers, foreign category values (--write-mapping), encodings, and messages in the chosen language. The
offline round trip: our XLSForm through pyxform, and its ODK Central / KoBoToolbox exports (built here with those
tools' column naming, no server being available) imported with no mapping, photos from Central's zip included.
SQLite and PostGIS."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from dke_geo import config, fixtures
from dke_geo.errors import InvalidInput
from dke_geo.interop import readers
from dke_geo.interop.column_mapping import MappingError
from dke_geo.interop.xlsform import FORM_MARK
from dke_geo.roles import Actor, Role
from dke_geo.services import exports, imports, recording
from dke_geo.services.imports import ImportRefused
from dke_geo.store.db import reading
from dke_geo.store.tables import observations, photos
from tests.conftest import ROOT
from tests.images import jpeg
from tests.test_import import PLANNER, count, stored, write_csv

STAFF = Actor("staff-test", Role.STAFF)


@pytest.fixture(scope="module")
def inside() -> list[tuple[float, float]]:
    return [(o.lon, o.lat) for o in fixtures.demo_walks_and_observations()[1][:40]]


def cli(tmp_path: Path, ctx, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DKE_GEO_DATABASE_URL": ctx.settings.database_url, "DKE_GEO_DATA_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, "-m", "dke_geo", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


# ---------------------------------------------------------------- 1. re-imports without ids
def test_a_plain_csv_imported_twice_adds_it_once_and_says_how_it_was_recognised(ctx, tmp_path, inside):
    (lon, lat), (lon2, lat2) = inside[0], inside[1]
    path = write_csv(tmp_path / "a.csv", ["lon", "lat", "category", "note"],
                     [[lon, lat, "lighting", "Lampe ud"], [lon2, lat2, "litter", ""]])
    first = imports.import_findings(ctx, PLANNER, path)
    assert (first.new, first.identity["content"]) == (2, 2)
    assert any("their content" in line for line in first.lines("en"))
    again = imports.import_findings(ctx, PLANNER, path)
    assert (again.new, again.existing) == (0, 2) and count(ctx) == 2
    # the same findings in another format (GeoJSON, a point written with more decimals) are the same findings
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon + 1e-9, lat]},
         "properties": {"category": "Belysning", "note": "Lampe ud"}}]}
    (tmp_path / "a.geojson").write_text(json.dumps(doc))
    assert imports.import_findings(ctx, PLANNER, tmp_path / "a.geojson").existing == 1
    # two identical rows in one file: one finding, the second refused with what they share
    twice = write_csv(tmp_path / "twice.csv", ["lon", "lat", "category"], [[lon, lat, "paths"], [lon, lat, "paths"]])
    report = imports.import_findings(ctx, PLANNER, twice, dry_run=True)
    assert [r.row for r in report.rejected] == [3]
    assert "Same place, time, category and note as row 2" in report.rejected[0].reasons("en")[0]


# ---------------------------------------------------------------- 2. impossible coordinates, and exports
def test_impossible_coordinates_are_refused_even_with_allow_outside(ctx, tmp_path):
    path = write_csv(tmp_path / "far.csv", ["lon", "lat", "category"],
                     [["12.35", "95", "lighting"], ["500", "55.66", "lighting"], ["720000", "6170000", "lighting"],
                      ["12.60", "55.68", "lighting"]])
    report = imports.import_findings(ctx, PLANNER, path, allow_outside=True, dry_run=True)
    reasons = {r.row: " ".join(r.reasons("en")) for r in report.rejected}
    assert sorted(reasons) == [2, 3, 4] and report.outside == 1  # Copenhagen is merely outside
    assert "Latitude: must be between -90 and 90" in reasons[2]
    assert "Longitude: must be between -180 and 180" in reasons[3] and "Longitude" in reasons[4]
    with pytest.raises(ImportRefused):
        imports.import_findings(ctx, PLANNER, path, allow_outside=True)
    assert count(ctx) == 0


def test_a_failed_export_leaves_no_partial_file_and_keeps_the_previous_one(demo_ctx, tmp_path, monkeypatch):
    out = tmp_path / "fund.geojson"
    exports.export(demo_ctx, PLANNER, "geojson", out)
    before = out.read_bytes()
    import pyogrio

    def half_then_fail(frame, path, **kwargs):
        Path(path).write_text('{"type": "FeatureCollection", "features": [')
        raise RuntimeError("disk full")

    monkeypatch.setattr(pyogrio, "write_dataframe", half_then_fail)
    with pytest.raises(RuntimeError):
        exports.export(demo_ctx, PLANNER, "geojson", out)
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir() if "fund" in p.name] == ["fund.geojson"]


# ---------------------------------------------------------------- 3. extreme dates
def test_extreme_dates_are_refused_with_a_reason_in_the_dry_run_and_the_import(ctx, tmp_path, inside):
    (lon, lat) = inside[0]
    path = write_csv(tmp_path / "dates.csv", ["lon", "lat", "category", "time"],
                     [[lon, lat, "lighting", "0001-01-01"], [lon, lat, "litter", "9999-12-31T23:59:59-05:00"],
                      [lon, lat, "paths", "1999-12-31T23:00:00+01:00"]])
    report = imports.import_findings(ctx, PLANNER, path, dry_run=True)
    assert [r.row for r in report.rejected] == [2, 3, 4]
    assert all("lies outside the allowed period 01.01.2000" in r.reasons("en")[0] for r in report.rejected)
    assert "uden for det tilladte tidsrum" in report.rejected[0].reasons("da")[0]
    with pytest.raises(ImportRefused):
        imports.import_findings(ctx, PLANNER, path)


def test_the_field_refuses_a_time_before_2000_unless_the_setting_widens_the_window(ctx, monkeypatch):
    walk = recording.start_walk(ctx, STAFF, {"title": "Aftenvandring", "area_ids": ["blokland"]})
    finding = {"walk_id": walk.id, "lon": 12.35732, "lat": 55.66024, "category": "lighting",
               "observed_at": "1995-06-01T21:00:00+02:00"}
    with pytest.raises(InvalidInput) as refused:
        recording.record_observation(ctx, STAFF, finding)
    assert refused.value.messages("en")[0].startswith("Time: 1995-06-01T21:00:00+02:00 lies outside")
    monkeypatch.setenv("DKE_GEO_EARLIEST_DATE", "1990-01-01")
    config.load()  # the widened window is a valid setting
    assert recording.record_observation(ctx, STAFF, finding)[1]


# ---------------------------------------------------------------- 4. formula guard only where formulas run; KML
@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv", "xlsx"])
def test_a_note_starting_with_an_apostrophe_survives_every_round_trip(ctx, tmp_path, inside, fmt):
    walk = recording.start_walk(ctx, STAFF, {"title": "Vandring", "area_ids": ["blokland"]})
    note = "'-) hilsen"
    recording.record_observation(ctx, STAFF, {"walk_id": walk.id, "lon": inside[0][0], "lat": inside[0][1],
                                              "category": "lighting", "internal_note": note})
    path = tmp_path / f"x.{fmt}"
    exports.export(ctx, PLANNER, fmt, path)
    with reading(ctx.engine) as conn:
        conn.execute(select(func.count()).select_from(observations))
    from dke_geo.store.db import transaction
    with transaction(ctx.engine) as conn:
        conn.execute(observations.delete())
    imports.import_findings(ctx, PLANNER, path)
    assert stored(ctx)["internal_note"].tolist() == [note]


def test_kml_descriptions_are_escaped_for_google_earth(ctx, tmp_path, inside):
    walk = recording.start_walk(ctx, STAFF, {"title": "Vandring", "area_ids": ["blokland"]})
    recording.record_observation(ctx, STAFF, {"walk_id": walk.id, "lon": inside[0][0], "lat": inside[0][1],
                                              "category": "lighting", "internal_note": "<img src=x onerror=alert(1)>"})
    path = tmp_path / "x.kml"
    exports.export(ctx, PLANNER, "kml", path)
    text = path.read_text()
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text.replace("&amp;", "&")


# ---------------------------------------------------------------- 5. and 6. KoBoToolbox (formpack)
def test_kobo_submission_time_is_utc(ctx, tmp_path, inside):
    (lon, lat) = inside[0]
    path = write_csv(tmp_path / "kobo.csv", ["category", "_location_latitude", "_location_longitude", "_uuid",
                                             "_submission_time"],
                     [["lighting", lat, lon, str(uuid.uuid4()), "2017-01-20T19:10:00"]])
    imports.import_findings(ctx, PLANNER, path)
    assert pd.Timestamp(stored(ctx)["observed_at"].iloc[0]) == pd.Timestamp("2017-01-20T20:10:00+01:00")


@pytest.mark.parametrize("prefix", ["geo/", "grp[1]/", ""])
def test_kobo_geopoints_in_groups_and_flattened_repeats_are_found(ctx, tmp_path, inside, prefix):
    (lon, lat) = inside[0]
    header = ["start", "finding/Q1.4", "finding/category", f"{prefix}_geolocation_latitude",
              f"{prefix}_geolocation_longitude", f"{prefix}_geolocation_precision", "_uuid", "_submission_time"]
    path = write_csv(tmp_path / "kobo.csv", header, [["2017-04-20T21:10:00.000+02:00", "ja", "lys", lat, lon, "4.5",
                                                      str(uuid.uuid4()), "2017-04-20T19:20:00"]])
    report = imports.import_findings(ctx, PLANNER, path)
    assert (report.mapping, report.new, report.rejected) == ("KoBoToolbox", 1, [])
    assert stored(ctx)["gps_accuracy_m"].tolist() == [4.5]


def test_formpack_semicolon_csv_with_french_labels_finds_the_point_and_maps_the_rest(ctx, tmp_path, inside):
    """formpack's CSV export with label headers in French (";" and every cell quoted): the geopoint is found; the
    foreign category column and values get a drafted mapping, and the second run imports."""
    (lon, lat), (lon2, lat2) = inside[0], inside[1]
    lines = ['"Date";"Catégorie du problème";"Remarque";"Localisation";"_Localisation_latitude";'
             '"_Localisation_longitude";"_Localisation_altitude";"_Localisation_precision";"_id";"_uuid";'
             '"_submission_time";"_index"',
             f'"2017-04-20";"Éclairage";"lampe";"{lat} {lon} 0 5";"{lat}";"{lon}";"0";"5";"1";"{uuid.uuid4()}";'
             f'"2017-04-20T19:20:00";"1"',
             f'"2017-04-20";"Déchets";"";"{lat2} {lon2} 0 5";"{lat2}";"{lon2}";"0";"5";"2";"{uuid.uuid4()}";'
             f'"2017-04-20T19:21:00";"2"']
    path = tmp_path / "formpack.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    dry = imports.import_findings(ctx, PLANNER, path, dry_run=True)
    assert dry.mapping == "KoBoToolbox" and len(dry.rejected) == 2
    assert all("Category: is required." in r.reasons("en") for r in dry.rejected)  # the point was found
    mapping = tmp_path / "fr.toml"
    draft = imports.write_mapping(ctx, PLANNER, path, mapping)
    assert draft.category_column == "Catégorie du problème" and set(draft.categories) == {"Éclairage", "Déchets"}
    draft = imports.write_mapping(ctx, PLANNER, path, mapping,
                                  categories={"Éclairage": "lighting", "Déchets": "litter"})
    report = imports.import_findings(ctx, PLANNER, path, mapping=mapping)
    assert (report.new, report.rejected) == (2, [])
    assert sorted(stored(ctx)["category"]) == ["lighting", "litter"]


def test_a_file_without_any_location_column_says_so_once(ctx, tmp_path):
    path = write_csv(tmp_path / "where.csv", ["navn", "kategori"], [["a", "lighting"]] * 3)
    with pytest.raises(MappingError) as refused:
        imports.import_findings(ctx, PLANNER, path, dry_run=True)
    message = refused.value.message("da")
    assert "Ingen kolonne i filen angiver en placering" in message and "navn, kategori" in message
    assert "kolonnerne - er tomme" not in message


# ---------------------------------------------------------------- 7. and the offline round trip: our XLSForm
def test_the_xlsform_converts_in_pyxform_without_errors_or_warnings(ctx, tmp_path):
    from pyxform.xls2xform import convert

    walk = recording.start_walk(ctx, STAFF, {"title": "Offline", "area_ids": ["blokland"]})
    form = imports.write_form(ctx, PLANNER, tmp_path / "dke-omraadevandring.xlsx", walk_id=walk.id)
    result = convert(xlsform=str(form))
    assert result.warnings == [], result.warnings
    xml = result.xform
    for needed in ("Belysning", "Lighting", "geopoint", str(walk.id), "once(uuid())", FORM_MARK, "jr:itext"):
        assert needed in xml, needed


def _submission(i: int, point, walk_id: str, photo: str = "") -> dict:
    lon, lat = point
    return {"start": f"2017-04-20T21:{10 + i:02d}:00.000+02:00", "end": f"2017-04-20T21:{11 + i:02d}:00.000+02:00",
            "dke_form": FORM_MARK, "finding_id": f"7c1e0a52-5d1b-4a0e-9a1c-{i:012d}", "walk_id": walk_id,
            "lat": lat, "lon": lon, "category": ["lighting", "hiding_places", "litter"][i % 3],
            "severity": str(1 + i % 3), "perceived_safety": "" if i % 2 else "2", "note": f"Offline fund {i} æøå",
            "photo": photo, "instance": f"uuid:0d5b7d2e-8f34-4d2c-b0c4-{i:012d}"}


def odk_central_csv(subs: list[dict]) -> str:
    header = ["SubmissionDate", "start", "end", "dke_form", "finding_id", "walk_id", "location-Latitude",
              "location-Longitude", "location-Altitude", "location-Accuracy", "category", "severity",
              "perceived_safety", "note", "photo", "meta-instanceID", "KEY", "SubmitterID", "SubmitterName",
              "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
    rows = [[s["start"].replace("+02:00", "Z"), s["start"], s["end"], s["dke_form"], s["finding_id"], s["walk_id"],
             s["lat"], s["lon"], "21.3", "4.8", s["category"], s["severity"], s["perceived_safety"], s["note"],
             s["photo"], s["instance"], s["instance"], "7", "tablet-2", "1" if s["photo"] else "0",
             "1" if s["photo"] else "0", "", "", "collect:xyz", "0", "20170420"] for s in subs]
    frame = pd.DataFrame(rows, columns=header)
    return frame.to_csv(index=False)


def test_odk_central_zip_with_photos_imports_with_no_mapping(ctx, tmp_path, inside, monkeypatch):
    monkeypatch.setenv("DKE_GEO_DATA_DIR", str(tmp_path / "data"))
    walk = recording.start_walk(ctx, STAFF, {"title": "Offline", "area_ids": ["blokland"]})
    subs = [_submission(i, inside[i], str(walk.id), f"1713640{i}.jpg" if i < 2 else "") for i in range(3)]
    archive = tmp_path / "dke_omraadevandring.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("dke_omraadevandring.csv", odk_central_csv(subs))
        for i in range(2):
            z.writestr(f"media/1713640{i}.jpg", jpeg())
    report = imports.import_findings(ctx, PLANNER, archive)
    assert (report.mapping, report.new, report.photos, report.rejected) == ("DKE-områdevandring (XLSForm)", 3, 2, [])
    rows = stored(ctx).sort_values("internal_note")
    assert set(rows["walk_id"]) == {str(walk.id)} and rows["gps_accuracy_m"].tolist() == [4.8] * 3
    assert rows["external_id"].tolist() == [s["finding_id"] for s in subs]
    assert count(ctx, photos) == 2
    assert all((tmp_path / "data" / p.full_path).exists() for o in recording.walk_observations(ctx, PLANNER, walk.id)
               for p in o.photos)
    assert imports.import_findings(ctx, PLANNER, archive).new == 0 and count(ctx, photos) == 2


def test_odk_central_odata_json_imports_with_no_mapping_and_is_the_same_as_its_csv(ctx, tmp_path, inside):
    subs = [_submission(i, inside[i], "") for i in range(3)]
    odata = {"@odata.context": "https://central.example/v1/projects/1/forms/dke_omraadevandring.svc/$metadata#Submissions",
             "value": [{"__id": s["instance"], "start": s["start"], "end": s["end"], "dke_form": s["dke_form"],
                        "finding_id": s["finding_id"], "walk_id": None,
                        "location": {"type": "Point", "coordinates": [s["lon"], s["lat"], 21.3],
                                     "properties": {"accuracy": 4.8}},
                        "category": s["category"], "severity": s["severity"],
                        "perceived_safety": s["perceived_safety"] or None, "note": s["note"], "photo": None,
                        "meta": {"instanceID": s["instance"]},
                        "__system": {"submissionDate": "2017-04-20T19:30:00.000Z", "submitterId": "7",
                                     "submitterName": "tablet-2", "attachmentsPresent": 0, "attachmentsExpected": 0,
                                     "status": None, "reviewState": None, "deviceId": "collect:xyz", "edits": 0,
                                     "formVersion": "20170420"}} for s in subs]}
    path = tmp_path / "Submissions.json"
    path.write_text(json.dumps(odata))
    report = imports.import_findings(ctx, PLANNER, path)
    assert (report.mapping, report.new, report.rejected) == ("DKE-områdevandring (XLSForm)", 3, [])
    csv_path = tmp_path / "dke_omraadevandring.csv"
    csv_path.write_text(odk_central_csv(subs))
    assert imports.import_findings(ctx, PLANNER, csv_path).existing == 3


def test_kobo_csv_and_geojson_exports_of_our_form_import_with_no_mapping(ctx, tmp_path, inside):
    subs = [_submission(i, inside[i], "") for i in range(3)]
    header = ["start", "end", "dke_form", "finding_id", "walk_id", "location", "_location_latitude",
              "_location_longitude", "_location_altitude", "_location_precision", "category", "severity",
              "perceived_safety", "note", "photo", "photo_URL", "meta/instanceID", "_id", "_uuid", "_submission_time",
              "_validation_status", "_notes", "_status", "_submitted_by", "__version__", "_tags", "_index"]
    rows = [[s["start"], s["end"], s["dke_form"], s["finding_id"], "", f"{s['lat']} {s['lon']} 21.3 4.8", s["lat"],
             s["lon"], "21.3", "4.8", s["category"], s["severity"], s["perceived_safety"], s["note"], "", "",
             s["instance"], str(100 + i), s["instance"][5:], "2017-04-20T19:30:00", "", "", "submitted_via_web", "",
             "vX", "", str(i + 1)] for i, s in enumerate(subs)]
    kobo = tmp_path / "kobo.csv"
    pd.DataFrame(rows, columns=header).to_csv(kobo, index=False, sep=";")
    report = imports.import_findings(ctx, PLANNER, kobo)
    assert (report.mapping, report.new, report.rejected) == ("DKE-områdevandring (XLSForm)", 3, [])
    # formpack's GeoJSON: question names as properties, choices by their (first) label, no _uuid: same findings
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"], 21.3]},
                 "properties": {"start": s["start"], "end": s["end"], "dke_form": s["dke_form"],
                                "finding_id": s["finding_id"], "category": fixtures_label(s["category"]),
                                "severity": s["severity"], "note": s["note"]}} for s in subs]
    geojson = tmp_path / "kobo.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "name": "dke_omraadevandring", "features": features}))
    again = imports.import_findings(ctx, PLANNER, geojson)
    assert (again.mapping, again.new, again.existing, again.rejected) == ("DKE-områdevandring (XLSForm)", 0, 3, [])


def fixtures_label(category: str) -> str:
    from dke_geo.categories import categories
    return categories()[category].da


# ---------------------------------------------------------------- 8. a QField project of several layers
def test_a_qfield_project_says_which_layer_it_read_and_layer_chooses(ctx, tmp_path, inside):
    project = tmp_path / "qfield.gpkg"
    points = tmp_path / "fund.csv"
    pd.DataFrame({"WKT": [f"POINT ({lon} {lat})" for lon, lat in inside[:2]], "uuid": ["{a}", "{b}"],
                  "category": ["lighting", "paths"], "note": ["x", "y"]}).to_csv(points, index=False)
    tracks = tmp_path / "spor.csv"
    (lon, lat), (lon2, lat2) = inside[0], inside[1]
    pd.DataFrame({"WKT": [f"LINESTRING ZM ({lon} {lat} 10 0, {lon2} {lat2} 11 5)"], "name": ["spor"]}).to_csv(
        tracks, index=False)
    lookup = tmp_path / "opslag.csv"
    pd.DataFrame({"kode": ["A"], "tekst": ["a"]}).to_csv(lookup, index=False)
    for source, name, extra in ((points, "fund", ["-a_srs", "EPSG:4326", "-nlt", "POINT"]),
                                (tracks, "spor", ["-a_srs", "EPSG:4326", "-nlt", "LINESTRINGZM"]),
                                (lookup, "opslag", [])):
        subprocess.run(["ogr2ogr", "-f", "GPKG", *(["-update"] if project.exists() else []), "-nln", name, *extra,
                        str(project), str(source)], check=True, capture_output=True)
    report = imports.import_findings(ctx, PLANNER, project, dry_run=True)
    assert (report.layer, report.mapping, report.new) == ("fund", "QField layer", 2)
    said = " ".join(report.lines("en"))
    assert "Layer 'fund' was read: the file's only point layer" in said and "spor (LineString" in said
    assert "opslag (no geometry)" in said and "--layer NAME" in said
    assert "GDAL" not in said and "Warning" not in said
    with pytest.raises(readers.UnreadableFile) as wrong:
        imports.import_findings(ctx, PLANNER, project, layer="punkter", dry_run=True)
    assert "has no layer or sheet 'punkter'" in wrong.value.message("en")
    chosen = imports.import_findings(ctx, PLANNER, project, layer="spor", dry_run=True)
    assert chosen.layer == "spor" and "LineString, not a point" in " ".join(chosen.rejected[0].reasons("en"))
    assert "has M values (measures along lines); they are not used" in " ".join(chosen.lines("en"))
    said = cli(tmp_path, ctx, "import", str(project), "--layer", "spor", "--dry-run", "--lang", "da")
    assert said.returncode == 1 and "Laget 'spor' har M-værdier" in said.stdout
    assert said.stderr == "" and "Measured" not in said.stdout  # nothing of GDAL's own words


# ---------------------------------------------------------------- 9. foreign category values: --write-mapping
def test_write_mapping_on_the_command_line_then_the_second_run_imports(ctx, tmp_path, inside):
    rows = [[lon, lat, kind, "2017-04-20T21:00:00+02:00"]
            for (lon, lat), kind in zip(inside[:4], ["Pub", "Street light", "Graffiti", "Pub"], strict=True)]
    path = write_csv(tmp_path / "foreign.csv", ["x", "y", "type", "when"], rows)
    first = cli(tmp_path, ctx, "import", str(path), "--lang", "en")
    assert first.returncode == 1 and "4 rows: Category: is required." in first.stdout
    written = cli(tmp_path, ctx, "import", str(path), "--write-mapping", str(tmp_path / "m.toml"), "--lang", "da")
    assert written.returncode == 0 and "Kortlægningen er skrevet" in written.stdout
    text = (tmp_path / "m.toml").read_text()
    assert 'category = "type"' in text and '"Street light" = "lighting"' in text and '"Graffiti" = "graffiti"' in text
    assert '"Pub" = "other"  # no match found: guessed' in text
    second = cli(tmp_path, ctx, "import", str(path), "--mapping", str(tmp_path / "m.toml"), "--lang", "en")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "4 new" in second.stdout and count(ctx) == 4


# ---------------------------------------------------------------- 10. encodings
def test_utf16_is_read_and_an_unreadable_byte_is_named_with_its_row(ctx, tmp_path, inside):
    (lon, lat) = inside[0]
    text = f"lon,lat,category,note\n{lon},{lat},lighting,Gård ved blok 3\n"
    (tmp_path / "u16.csv").write_bytes(text.encode("utf-16"))  # with a byte-order mark, as Excel writes it
    (tmp_path / "u16le.csv").write_bytes(text.encode("utf-16-le"))  # without one
    for name in ("u16.csv", "u16le.csv"):
        assert imports.import_findings(ctx, PLANNER, tmp_path / name, dry_run=True).new == 1
    latin = f"lon,lat,category,note\n{lon},{lat},lighting,ok\n{lon},{lat},litter,".encode() + b"\x81 d\xe5rlig\n"
    (tmp_path / "latin.csv").write_bytes(latin)
    with pytest.raises(readers.UnreadableFile) as refused:
        imports.import_findings(ctx, PLANNER, tmp_path / "latin.csv", dry_run=True)
    assert refused.value.message("en") == ("The file latin.csv is neither UTF-8 nor Windows-1252 (Danish Excel): the "
                                          "byte 0x81 in row 3 cannot be read by either. Save the file as \"CSV UTF-8\" "
                                          "and try again.") or "0x81 in row 3" in refused.value.message("en")


# ---------------------------------------------------------------- 11. messages in the chosen language, grouped
def test_cli_messages_in_danish_grouped_and_a_dry_run_with_rejections_fails(ctx, tmp_path, inside):
    (lon, lat) = inside[0]
    lost = str(uuid.uuid4())
    rows = [[str(uuid.uuid4()), lost, lon, lat, "litter", "2017-04-20T21:00:00+02:00", "gps"] for _ in range(300)]
    path = write_csv(tmp_path / "ours.csv", ["id", "walk_id", "lon", "lat", "category", "observed_at",
                                             "location_source"], rows)
    dry = cli(tmp_path, ctx, "import", str(path), "--dry-run", "--lang", "da")
    assert dry.returncode == 1
    assert f"300 rækker: Ukendt vandring {lost}" in dry.stdout and "rækker: 2-301" in dry.stdout
    assert dry.stdout.count("Ukendt vandring") == 1
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"not a geopackage")
    refused = cli(tmp_path, ctx, "import", str(broken), "--lang", "da")
    assert refused.returncode == 1 and "kan ikke læses som GeoPackage" in refused.stderr
    assert "DRIVER" not in refused.stderr and "Traceback" not in refused.stderr
    english = cli(tmp_path, ctx, "import", str(broken), "--lang", "en")
    assert "cannot be read as GeoPackage" in english.stderr
