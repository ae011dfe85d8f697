"""Tidings: a self-hostable, multilingual, AI-assisted news aggregator."""

import logging

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/tidings-news/tidings"

# Library etiquette (as trafilatura does): callers decide where logs go.
logging.getLogger(__name__).addHandler(logging.NullHandler())
