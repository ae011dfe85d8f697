"""Models behind small interfaces: embeddings now; summaries and answers later."""
