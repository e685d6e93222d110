import os

from django.apps import AppConfig


class BenchConsumerConfig(AppConfig):
    name = "bench.consumer"
    label = "bench_consumer"

    def ready(self) -> None:
        from bench.consumer import handlers
        from retail.platform import inbox

        if os.environ.get("BENCH_CONSUMERS", "bench") == "bench":
            # Measure the kernel: the bench consumer alone, without consumers of every event
            # (the audit trail), which `BENCH_CONSUMERS=all` keeps.
            for consumer in inbox.consumers_of(handlers.BenchHappened.event_type):
                if consumer.name != handlers.CONSUMER:
                    inbox.unregister(consumer=consumer.name)
