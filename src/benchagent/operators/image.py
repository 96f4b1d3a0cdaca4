"""image operators (being written)."""
