"""What the Data page shows, one module per part of the page (callers import from the module itself)."""
