"""The AWS gateway: wire protocols, SigV4, routing of requests to services."""
