"""Ingestion: fetching feeds and pages from the outside world, safely and politely."""
