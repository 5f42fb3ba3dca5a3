"""Bench-only Django app: the baseline view (parse JSON, insert one row) the API is compared to."""
