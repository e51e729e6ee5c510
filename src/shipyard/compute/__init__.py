"""The machine side of instances: instance types, capacity and its queue, executors.

An executor (:mod:`shipyard.compute.executor`) runs job hosts; :mod:`~.local` runs them as
processes of this machine, within what :mod:`~.capacity` hands out.
"""
