"""Evaluation: TrackEval metrics and `track eval` (file formats live in `tracker/formats/`)."""
