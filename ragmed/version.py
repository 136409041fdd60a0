"""ragmed's version (a leaf module, so any layer may record it in what it writes)."""

__version__ = "0.1.0"
