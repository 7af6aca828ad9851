"""Transactional outbox: mail is written with the change that causes it and delivered by a worker."""
