"""Organisation documents: uploads checked by content, stored locally or in S3, downloaded through the portal."""
