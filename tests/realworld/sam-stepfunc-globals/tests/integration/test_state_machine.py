import os

import pytest


@pytest.mark.skipif("AWS_SAM_STACK_NAME" not in os.environ, reason="needs a deployed stack")
def test_state_machine():
    assert os.environ["AWS_SAM_STACK_NAME"]
