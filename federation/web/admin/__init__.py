"""The web admin at /admin: a second front end over the same domain functions as the CLI."""
