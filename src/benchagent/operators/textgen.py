"""textgen operators (being written)."""
