"""Locust load for `make bench`: every simulated user requests one URL path in a loop.

Run by bench/api.py as a separate process (headless), e.g.
`locust -f bench/locustfile.py --headless --url-path /finance/revenue-analysis ...`.
"""

from __future__ import annotations

from typing import Any

from locust import FastHttpUser, events, task


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument("--url-path", default="/health", help="path (and query) to request")
    parser.add_argument(
        "--api-key",
        env_var="C360_BENCH_API_KEY",
        default="",
        help="API key sent as `Authorization: Bearer` (bench/api.py sets the variable)",
    )


class PathUser(FastHttpUser):
    """Requests the configured path back to back (closed loop, no think time)."""

    @task
    def get_path(self) -> None:
        """One GET of the configured path; anything but 200 counts as a failure."""
        options = self.environment.parsed_options
        path = options.url_path
        headers = {"Authorization": f"Bearer {options.api_key}"} if options.api_key else {}
        with self.client.get(path, name=path, headers=headers, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
