"""Fixtures that run a real S3 server (SeaweedFS ``weed mini``) for the integration tests."""
