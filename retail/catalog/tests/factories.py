import factory

from retail.catalog.models import ChannelPrice, Product, Sku


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    product = factory.SubFactory(ProductFactory)
    name = factory.LazyAttribute(lambda sku: f"{sku.product.name} ({sku.code})")
    base_price = 1990


class ChannelPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelPrice

    sku = factory.SubFactory(SkuFactory)
    channel_code = "web"
    price = 1790
