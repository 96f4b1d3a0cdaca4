"""audio operators (being written)."""
