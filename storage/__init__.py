"""Persistence for Atelier: models, engine and the operations that must be transactional.

This package imports nothing from ``bot``: the bot layer depends on storage, never the reverse.
"""
