"""The working catalogue: schema, ingest, validation and rejects, stats, synthetic catalogues."""
