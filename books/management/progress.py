"""A plain-text progress bar for management commands (no extra dependency)."""

import time


class ProgressBar:
    def __init__(self, stdout, label: str, width: int = 30):
        self.stdout = stdout
        self.label = label
        self.width = width
        self.started = time.monotonic()
        self.last_percent = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total <= 0 else int(done * 100 / total)
        if percent == self.last_percent and done < total:
            return
        self.last_percent = percent
        filled = int(self.width * percent / 100)
        elapsed = time.monotonic() - self.started
        bar = "#" * filled + "-" * (self.width - filled)
        self.stdout.write(
            f"\r{self.label} [{bar}] {percent:3d}% {done}/{total} {elapsed:.1f}s", ending=""
        )
        self.stdout.flush()

    def finish(self) -> None:
        self.stdout.write("")
