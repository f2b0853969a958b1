"""People who run an organisation through /admin: accounts, roles, passwords, sessions."""
