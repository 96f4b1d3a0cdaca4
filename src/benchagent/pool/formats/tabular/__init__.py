"""Tabular datasets: JSONL, CSV / TSV, Parquet and Arrow files, alone or as folders of splits.

- `files`: reading one data file into rows.
- `mapping`: the optional `*.benchagent.toml` / `benchagent-dataset.toml` field mappings.
- `columns`: which column plays which role; `media`: images and audio in cells.
- `table`: rows -> samples -> card; `sources`: files and folders -> tables.
"""
