"""paperradar: a local-first research radar."""

__version__ = "0.1.0"
