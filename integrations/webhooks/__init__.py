"""Webhooks: signed POSTs of the domain events to the endpoints admins register (see the README's "Webhooks")."""
