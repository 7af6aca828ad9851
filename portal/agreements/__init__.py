"""Cooperation agreements, memoranda and data-exchange protocols, and contact points."""
