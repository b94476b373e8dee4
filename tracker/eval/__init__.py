"""Evaluation: MOTChallenge file I/O and TrackEval metrics."""
