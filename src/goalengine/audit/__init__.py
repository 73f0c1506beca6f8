"""Audit: history, any past state, the integrity chain, checkpoints, exports and offline replay.

``chain`` holds the chain's definition (imported by the recorders); ``service`` the auditor's
operations behind :class:`goalengine.GoalEngine`; ``offline`` verifies and replays an export file
without a store; ``upgrade`` backfills the chain of a store written before it existed.
"""
