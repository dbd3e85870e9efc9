"""Consent webhooks: downstream processors told of every consent change, signed, in order."""
