"""Sign-in: local accounts, server-side sessions, throttling, password change and reset."""
