"""Every operation of the OpenAPI schema as a concrete request, with the scope it should need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PUBLIC = {"/health", "/api/auth/register", "/api/auth/login", "/api/auth/login/json"}

# Written out here, independently of c360_api.app.SCOPED_ROUTERS, so a wrong mapping there
# fails the tests (the longest matching prefix wins; None: any valid credential).
EXPECTED_SCOPES: dict[str, str | None] = {
    "/marketing/": "marketing",
    "/product/": "product",
    "/finance/": "finance",
    "/customer-success/": "customer_success",
    "/analytics/": "analyst",
    "/api/v1/": "analyst",
    "/models/": "analyst",
    "/admin/": "admin",
    "/metrics": "admin",
    "/api/auth/me": None,
}

PATH_VALUES = {
    "customer_id": "C01",
    "segment_name": "Champions",
    "job_id": "0123456789abcdef0123456789abcdef",
    "key_id": "0123456789ab",
}


@dataclass(frozen=True)
class Operation:
    """One method and path of the schema, with its path parameters filled in."""

    method: str
    template: str
    url: str
    operation: dict[str, Any]

    @property
    def expected_scope(self) -> str | None:
        """The scope this route must need (see EXPECTED_SCOPES)."""
        prefixes = [prefix for prefix in EXPECTED_SCOPES if self.template.startswith(prefix)]
        assert prefixes, f"no expected scope for {self.template}: add it to EXPECTED_SCOPES"
        return EXPECTED_SCOPES[max(prefixes, key=len)]

    @property
    def id(self) -> str:
        """A readable test id."""
        return f"{self.method} {self.template}"


def operations(schema: dict[str, Any], *, public: bool = False) -> list[Operation]:
    """The schema's operations (the protected ones, or only the public ones)."""
    found = []
    for template, methods in sorted(schema["paths"].items()):
        if (template in PUBLIC) != public:
            continue
        url = template
        for name, value in PATH_VALUES.items():
            url = url.replace("{" + name + "}", value)
        assert "{" not in url, f"add a sample value for {template} to PATH_VALUES"
        for method, operation in sorted(methods.items()):
            found.append(Operation(method.upper(), template, url, operation))
    return found
