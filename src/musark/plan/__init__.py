"""Plan: listens model, budget/coverage selection, tiers, ISRC dedup, exclusions, batches, report."""
