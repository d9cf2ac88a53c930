"""Run: executors (local process pool, Ray), the resumable job ledger, progress."""
