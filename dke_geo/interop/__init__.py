"""Import and export: our own formats for QGIS, Excel and Google Earth (export.py), findings from field
apps and files (importers.py, with mappings in data/import_mappings/), incident reports."""
