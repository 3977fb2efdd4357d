"""Training unit tests run torch on one thread: the models here are tiny, and on a busy 2-core machine
OpenMP threads that spin against other processes make small ops tens of times slower."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
