"""The starter pool's generators: `generate` writes the pool; `tasks` (text), `image` and
`charts` (Pillow), `audio` (espeak-ng) make its items."""
