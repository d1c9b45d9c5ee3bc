"""HTTP endpoints, one module per resource; all mounted under ``/api``."""
