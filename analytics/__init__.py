"""Analytics core for the after-sales customer-service dashboard (no Streamlit imports)."""

__version__ = "0.1.0"
