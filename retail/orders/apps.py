from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "retail.orders"
    label = "orders"
    verbose_name = "Orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from retail.orders import handlers  # noqa: F401 - registers the event consumers
