"""The intake API benchmark of issue 3: ``python bench/intake/run.py``."""
