"""filing_registry."""
