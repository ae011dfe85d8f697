"""Tidings: a self-hostable, multilingual, AI-assisted news aggregator."""

import logging
import os

# numpy's BLAS would start a thread pool for every small matrix product (story candidates, related
# articles, summaries); on a busy 2-core machine that made a 0.3 ms product take 7-16 ms. Set
# before numpy is first imported; an operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/tidings-news/tidings"

# Library etiquette (as trafilatura does): callers decide where logs go.
logging.getLogger(__name__).addHandler(logging.NullHandler())
