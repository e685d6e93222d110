"""The compliance API's security in OpenAPI: a staff token (a channel key authenticates only
to be told 403), i.e. the ``staffToken`` scheme that retail/channels/openapi.py defines."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class StaffOrChannelScheme(OpenApiAuthenticationExtension):
    target_class = "retail.compliance.api.views.StaffOrChannelAuthentication"
    name: list[str] = []  # defines no scheme of its own: it refers to channels' staffToken

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        return {"staffToken": []}

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return []
