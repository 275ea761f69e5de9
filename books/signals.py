"""Producers of book events (post_save/post_delete adapters). Filled in by the books feature."""
