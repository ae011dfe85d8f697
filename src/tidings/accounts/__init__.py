"""User accounts: sign-up and sign-in, sessions, CSRF, roles and API tokens."""
