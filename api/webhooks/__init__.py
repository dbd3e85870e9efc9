"""GraphQL fields of the consent webhooks: staff register endpoints and watch deliveries."""
