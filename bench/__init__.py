"""Benchmarks (see docs/benchmarks.md). A package so that bench settings and apps import."""
