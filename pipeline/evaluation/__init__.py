"""Evaluation commands (extraction, topics, statements)."""
