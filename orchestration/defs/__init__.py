"""Definitions autoloaded by ``dg.load_defs``: one module per kind of definition."""
