"""Producers of account events (post_save adapters). Filled in by the accounts feature."""
