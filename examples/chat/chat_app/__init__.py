"""A small chat application: users, channels, memberships, messages, replies and reactions."""
