"""ImportTable and ExportTableToPointInTime against folders on the operator's
disks: S3 path mapping (s3paths), export writers (export_files), import
readers (import_files), Ion conversion (ion), job records (jobs) and the
background runner (runner)."""
