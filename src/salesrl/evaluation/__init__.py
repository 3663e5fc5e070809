"""Honest evaluation: cross-validation by conversation, one prefix at a time."""
