"""Values and pure functions (audio, text) that every other layer builds on; no I/O to speak of, no Qt."""
