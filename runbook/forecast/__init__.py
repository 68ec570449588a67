"""The Monte Carlo core, plan review (``runbook check``) and calibration from past runs."""
