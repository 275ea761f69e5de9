"""kombu's filesystem transport (the zero-setup broker under var/), with atomic writes.

kombu 5.7 creates a message file, then locks it and writes it. A worker listing the
folder in between moves the still-empty file away, reads b"" and dies on a JSON error,
losing the message (the relay re-sends it a lease later, but the worker process is gone
until restarted). Here a message is written under a name no reader looks at
(`….msg.part`) and renamed into place, so a reader sees either nothing or the whole
message. `bookshare/celery.py` points the `filesystem://` scheme at this transport.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)  # atomic within one folder
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
