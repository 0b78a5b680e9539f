import os

import pytest


@pytest.mark.skipif("AWS_SAM_STACK_NAME" not in os.environ, reason="needs a deployed stack")
def test_api_gateway():
    assert os.environ["AWS_SAM_STACK_NAME"]
