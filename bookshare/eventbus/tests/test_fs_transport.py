"""The zero-setup broker writes each message atomically (kombu's own transport could be
read while still empty, killing the worker that read it)."""

import threading
from pathlib import Path

import pytest
from kombu import Connection

from bookshare.eventbus import fs_transport


def folder_connection(tmp_path: Path) -> Connection:
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    return Connection("filesystem://", transport_options=options)


def test_the_filesystem_scheme_uses_our_transport():
    with Connection("filesystem://") as conn:
        assert isinstance(conn.transport, fs_transport.Transport)


def test_a_reader_never_sees_a_message_half_written(tmp_path):
    """A reader racing many writers gets only whole messages (a .part file is never read)."""
    sent, received, errors = 300, [], []
    done = threading.Event()

    def write():
        with folder_connection(tmp_path) as conn:
            channel = conn.default_channel
            for n in range(sent):
                channel._put("q", {"n": n, "pad": "x" * 20_000})

    def read():
        with folder_connection(tmp_path) as conn:
            channel = conn.default_channel
            while not done.is_set() or len(received) < sent:
                try:
                    received.append(channel._get("q")["n"])
                except Exception as exc:  # noqa: BLE001 - Empty, or the bug
                    if type(exc).__name__ != "Empty":
                        errors.append(exc)
                        return
                if len(received) == sent:
                    return

    reader = threading.Thread(target=read)
    reader.start()
    write()
    done.set()
    reader.join(timeout=60)
    assert errors == []
    assert sorted(received) == list(range(sent))
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("name", ["1_a.q.msg.part"])
def test_a_partial_file_is_not_a_message(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with folder_connection(tmp_path) as conn:
        assert conn.default_channel._size("q") == 0
