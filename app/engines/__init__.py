"""TTS engine adapters behind one contract, the registry that owns them, and their on-disk assets."""
