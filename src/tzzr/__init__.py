"""TZZR: a self-hosted, provenance-first capture-and-processing pipeline."""

__version__ = "0.1.0"
