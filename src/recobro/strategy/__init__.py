"""Stages, segments, strategies, variants and steps; the daily cycle (layer 4: decide)."""
