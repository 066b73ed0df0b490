"""Everything a run writes for people: tables (CSV, XLSX, GeoPackage), static maps, the web map
and the reports. Tables go through the results contract (:mod:`arjenturva.results`)."""
