"""Model Monitor: job definitions, monitoring schedules and their executions.

Definitions and schedules are records (:mod:`.records`); the runner (:mod:`.runner`)
starts each execution at its scheduled time as a processing job with the Model Monitor
analyzer image (:mod:`.processing`), follows it, and publishes its CloudWatch metrics
(:mod:`.metrics`).
"""
