"""The pure core: playbook schema, conditions, scoring and lifecycle rules. No I/O, no clock."""
