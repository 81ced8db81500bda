"""Sentences for the timeline events the channels app writes (registered in ChannelsConfig)."""

from __future__ import annotations

from amends.cases.choices import MessageDirection
from amends.cases.event_kinds import EventLine, Renderer
from amends.channels.choices import ChannelsEventKind


def _attachments_added(line: EventLine) -> str:
    count = line.data.get("count")
    count = count if isinstance(count, int) and count > 0 else 1
    files = "1 attachment" if count == 1 else f"{count} attachments"
    where = (
        "an internal note"
        if line.data.get("direction") == MessageDirection.INTERNAL
        else "a message"
    )
    return line.did(f"added {files} to {where}", f"{where.capitalize()} got {files}")


CHANNELS_RENDERERS: dict[str, Renderer] = {
    ChannelsEventKind.ATTACHMENTS_ADDED: _attachments_added,
}
