"""Organisations (tenants), people, memberships with roles, invitations and API keys."""
