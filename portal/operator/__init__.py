"""Platform operator pages: every organisation on the portal, and creating new ones."""
