"""The personal data the policy names, each kind with its own rules and retention."""
