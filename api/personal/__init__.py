"""The personal data the policy names: favorites, feedback and pictures, error reports,
support correspondence, questionnaires, search and click records, devices."""
