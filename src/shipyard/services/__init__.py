"""One package per AWS API: handlers that turn parsed requests into calls on the domain."""
