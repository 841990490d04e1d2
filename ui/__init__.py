"""Streamlit-facing helpers: i18n, shared sidebar, cached loaders, chart theme."""
