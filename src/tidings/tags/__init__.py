"""Hashtags: people, places, organisations and topics attached to articles."""
