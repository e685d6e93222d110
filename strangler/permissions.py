"""Who may flip route toggles: members of the ``engineer`` group, nobody else."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser, AnonymousUser, Group

ENGINEER_GROUP = "engineer"
ENGINEER_PERMISSIONS = (
    "add_route",
    "change_route",
    "view_route",
    "view_historicalroute",
    "view_routechange",
    "view_shadowcomparison",
)


def can_flip(user: AbstractUser | AnonymousUser) -> bool:
    """Active staff in the engineer group. Deliberately not every superuser: each flip is made
    by someone who holds the role (a superuser who needs to flip joins the group first).
    """
    return bool(
        user.is_active and user.is_staff and user.groups.filter(name=ENGINEER_GROUP).exists()
    )


def engineer_group_ensure(apps: Any) -> Group:
    """Creates the group with its permissions; idempotent. ``apps``: a migration's app registry
    or ``django.apps.apps``.
    """
    from django.contrib.auth.management import create_permissions

    strangler_config = apps.get_app_config("strangler")
    if getattr(strangler_config, "models_module", None) is None:  # a migration's app config
        strangler_config.models_module = True
    create_permissions(strangler_config, apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name=ENGINEER_GROUP)
    group.permissions.add(
        *permission_model.objects.filter(
            content_type__app_label="strangler", codename__in=ENGINEER_PERMISSIONS
        )
    )
    return group
