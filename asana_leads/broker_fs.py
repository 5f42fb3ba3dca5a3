"""The embedded broker: kombu's filesystem transport, with messages written atomically.

kombu's ``_put`` creates ``<name>.msg`` and then writes into it; a consumer that lists the
folder in between reads an empty file, Celery stops with "Unrecoverable error:
JSONDecodeError", and the message is gone (celery/kombu#1551). Here the message is written to
``<name>.msg.tmp`` (which consumers skip: it does not end in ``.msg``) and renamed into place,
which is atomic on one filesystem.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):  # type: ignore[misc]
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Put ``payload`` onto ``queue``, visible to consumers only once complete."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".tmp"
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):  # type: ignore[misc]
    Channel = Channel
