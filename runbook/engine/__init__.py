"""Events -> state -> level -> alerts: the run engine, its clock, risk levels, hooks, simulate."""
