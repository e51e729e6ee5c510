"""Hyperparameter tuning: SageMaker's tuning jobs, run as ordinary training jobs (trials)
proposed by a strategy (Random, Grid, Bayesian, Hyperband) and stopped early when hopeless.
"""
