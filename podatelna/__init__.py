"""podatelna."""
