"""The audit trail: every API call, who made it, on what, and how it ended."""
