"""Templates and the outbox (layer 3: reach). Sending and providers come with outreach."""
