"""Notifications, campaigns, announcements and the operators' view of the queues."""
