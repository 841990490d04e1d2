"""Core: typed settings, errors, i18n, formatting, statistics, roles; imports nothing above it."""
