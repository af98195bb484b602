"""Security helpers: PII key checks, identifier allow-lists, roles, encryption, backups, audit log."""
