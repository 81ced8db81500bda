from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "amends.channels"
    label = "channels"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from amends.cases.event_kinds import event_kinds_register
        from amends.channels.choices import ChannelsEventKind
        from amends.channels.event_text import CHANNELS_RENDERERS
        from amends.channels.services import merging
        from amends.channels.services.replies import reply_email_queue
        from amends.channels.services.webhooks import webhook_subscribe
        from amends.core import hooks

        event_kinds_register(ChannelsEventKind, renderers=CHANNELS_RENDERERS)
        hooks.message_added.subscribe(reply_email_queue)
        webhook_subscribe()
        merging.subscribe()
