"""`track tune`: search a tracker's parameters with Optuna, cross-validated by sequence."""
