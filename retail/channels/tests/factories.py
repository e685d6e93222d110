import factory

from retail.channels.models import Channel


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"chan{n}")
    name = factory.LazyAttribute(lambda channel: f"Channel {channel.code}")
    kind = Channel.Kind.WEB


class PartnerFactory(ChannelFactory):
    code = factory.Sequence(lambda n: f"partner{n}")
    kind = Channel.Kind.MARKETPLACE
