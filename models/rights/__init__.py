"""What a data subject may ask of Accord: deletion of the account (data requests next)."""
