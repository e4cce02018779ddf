"""Promises to pay and payment plans (layer 2: rules)."""
