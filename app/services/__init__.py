"""Use cases (synthesize, play, list voices) that the CLI and the UI share; no Qt here."""
