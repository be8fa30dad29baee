"""Shared fixtures for every test folder."""
