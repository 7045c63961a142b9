"""Entry point for `python -m mock_data`."""

from mock_data.cli import main

raise SystemExit(main())
