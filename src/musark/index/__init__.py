"""The published metadata index: schema, writer (used by release) and read-only queries."""
