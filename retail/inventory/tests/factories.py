import factory

from retail.inventory.models import StockItem


class StockItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockItem
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    on_hand = 100
    reserved = 0
