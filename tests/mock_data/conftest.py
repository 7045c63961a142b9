"""Generator tests use the datasets defined in tests/conftest.py."""
