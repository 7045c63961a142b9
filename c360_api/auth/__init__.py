"""Credentials, scopes and tenants: API keys and users in a SQLite store, access tokens, limits."""
