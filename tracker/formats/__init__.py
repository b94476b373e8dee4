"""File formats shared by detectors, sinks and evaluation (the layer below all three).

``mot.py``: MOTChallenge det/results/gt files and ``seqinfo.ini``.
"""
