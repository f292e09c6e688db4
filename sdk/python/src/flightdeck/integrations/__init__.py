"""Integrations with LLM client packages, each imported only when its `instrument_*` is called."""
