"""The runbook file: format models, the YAML loader, the step graph, durations and times."""
