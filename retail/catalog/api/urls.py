from django.urls import path

from retail.catalog.api.products import ProductListView

urlpatterns = [path("products/", ProductListView.as_view(), name="product-list")]
