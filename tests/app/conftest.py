"""Page tests run as the app does on this computer: served on 127.0.0.1 (AppTest reads no config.toml)."""

import pytest
from streamlit import config


@pytest.fixture(autouse=True)
def served_on_loopback():
    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", before)
