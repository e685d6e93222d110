"""Fixtures every cross-context test shares: an API client per sales channel, with a fresh key."""

import pytest
from rest_framework.test import APIClient

from retail.channels import services as channels
from retail.channels.models import Channel
from retail.channels.tests.factories import ChannelFactory


def channel_client(code: str, kind: str = Channel.Kind.WEB) -> APIClient:
    channel = ChannelFactory(code=code, kind=kind)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {channels.api_key_issue(channel=channel)}")
    return client


@pytest.fixture
def web(db) -> APIClient:
    return channel_client("web")


@pytest.fixture
def app(db) -> APIClient:
    return channel_client("app", Channel.Kind.APP)
