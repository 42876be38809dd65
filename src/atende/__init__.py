"""Atende: occurrence and protocol management."""
