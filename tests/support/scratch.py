"""A stack in a temporary folder, started and always removed: its folder
holds pgdata and the signing key files, which must not outlive the run,
not even when the stack fails to start."""

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import stack as stack_controller


@contextmanager
def scratch_stack(prefix: str, prepare=lambda instance: None):
    """Yields a running Stack; `prepare(instance)` runs before `up()` (tests
    use it to change ports or overrides). Stopped (stopping it earlier is
    fine) and deleted on the way out, and on a failed start."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        instance = stack_controller.Stack.create(directory, stack_controller.new_secret(),
                                                 stack_controller.free_port())
        prepare(instance)
        instance.up()
        try:
            yield instance
        finally:
            instance.down()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
