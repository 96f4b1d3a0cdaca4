"""Dataset cards: profiling samples into card fields (answer type, language, text lengths) and
the content-hash card cache."""
