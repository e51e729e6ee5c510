"""Identities, policies, the policy engine and STS sessions."""
