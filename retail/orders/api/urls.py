from django.urls import path, register_converter

from retail.orders.api.views import OrderCancelView, OrderCreateView, OrderDetailView


class OrderIdConverter:
    """Only id-shaped strings reach the views (and the database); others are a plain 404."""

    regex = "[A-Za-z0-9_]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(OrderIdConverter, "order_id")

urlpatterns = [
    path("orders/", OrderCreateView.as_view(), name="order-create"),
    path("orders/<order_id:order_id>/", OrderDetailView.as_view(), name="order-detail"),
    path("orders/<order_id:order_id>/cancel", OrderCancelView.as_view(), name="order-cancel"),
]
