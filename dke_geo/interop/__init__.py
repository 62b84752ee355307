"""Format code for import and export, with no roles and no database: `readers` (a file into rows),
`column_mapping` (what a column means, from data/import_mappings/), `records` (rows checked by the model) and
`writers` (GeoPackage, GeoJSON, CSV, KML, Excel). The use cases are services/imports.py and services/exports.py."""
