"""HTML reports and action lists, built from the published serving copy (never the warehouse)."""
