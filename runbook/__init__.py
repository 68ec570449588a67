"""runbook: live maintenance-window runbook tracker."""

__version__ = "0.1.0"
