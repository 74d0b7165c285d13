"""The tests' stacks leave nothing behind: their folder holds pgdata and the
signing key files."""

import socket
import tempfile
from pathlib import Path

import pytest

import stack as stack_controller
from support.scratch import scratch_stack

PREFIX = "pg-auth-scratch-test-"


def leftovers():
    return set(Path(tempfile.gettempdir()).glob(f"{PREFIX}*"))


def test_a_stack_that_fails_to_start_leaves_no_folder():
    before = leftovers()
    with socket.socket() as taken:
        taken.bind((stack_controller.LOOPBACK, 0))
        taken.listen()

        def on_a_taken_port(instance):
            instance.ports["postgres"] = taken.getsockname()[1]

        with (pytest.raises(stack_controller.StackError, match="PostgreSQL did not start"),
              scratch_stack(PREFIX, on_a_taken_port)):
            pytest.fail("PostgreSQL started on a port already taken")
    assert leftovers() == before
