"""An aiosmtpd handler for the demo and the tests: each message the local
SMTP server receives becomes one .eml file in a folder (the demo's
.stack/demo/mail/), which any mail client opens.

    python -m aiosmtpd -n -l 127.0.0.1:PORT -c mail_files.EmlFiles FOLDER
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path


class EmlFiles:
    def __init__(self, folder: str):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.numbers = itertools.count(1)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("EmlFiles takes one argument: the folder")
        return cls(args[0])

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self.numbers):04d}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"
