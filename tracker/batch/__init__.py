"""``track batch``: many videos, one task per video, on a local Ray runtime or a Ray cluster.

- ``inputs.py``: INPUTS (files, folders, globs, manifests) → work units with unique folder names
- ``worker.py``: one video → ``DIR/<name>/`` whole or absent (temp folder + rename); the Ray actor
- ``fleet.py``: the driver: start/join Ray, dispatch, retry on dead workers, fleet.csv / fleet.json
- ``cli.py``: the command line
"""
