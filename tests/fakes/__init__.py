"""Fake providers served over real HTTP on loopback, so the official client libraries are exercised for real."""
