"""OpenAPI security schemes for the channel keys and staff tokens (drf-spectacular)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ChannelKeyScheme(OpenApiAuthenticationExtension):
    target_class = "retail.channels.authentication.ChannelKeyAuthentication"
    name = "channelKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A sales channel's API key (rk_live_…), shown once by seed_demo/admin.",
        }


class StaffTokenScheme(OpenApiAuthenticationExtension):
    target_class = "retail.channels.authentication.StaffTokenAuthentication"
    name = "staffToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A staff user's token (rst_…); each endpoint checks the role.",
        }
