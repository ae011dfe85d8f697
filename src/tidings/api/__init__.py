"""The JSON front door: /api/v1, documented by OpenAPI at /api/openapi.json."""
