from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "retail.fulfillment"
    label = "fulfillment"
    verbose_name = "Fulfillment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from retail.fulfillment import handlers  # noqa: F401 - registers the event consumers
